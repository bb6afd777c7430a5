import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Why a plain-HTTP upstream exchange failed.
enum PlainHTTPError: Error, Sendable, CustomStringConvertible {
    case connectFailed(String)
    case connectTimeout
    case deadlineExceeded
    case idleTimeout
    case connectionClosed
    case protocolError(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): return "connection failed: \(reason)"
        case .connectTimeout: return "connect timeout"
        case .deadlineExceeded: return "request deadline exceeded"
        case .idleTimeout: return "no data within the idle timeout"
        case .connectionClosed: return "connection closed before the response ended"
        case .protocolError(let reason): return "HTTP protocol error: \(reason)"
        }
    }
}

/// A lean HTTP/1.1 client for plain-HTTP upstreams (in-cluster vLLM, Ollama, TGI, gateways), used instead of
/// AsyncHTTPClient where no TLS and no proxy is involved.
///
/// Connections are pooled per event loop and reused with keep-alive; a request is served on the event loop its task
/// runs on (the one that owns the app's connection), so the whole exchange involves no thread hop. Responses are read
/// with back-pressure: the channel reads only when the consumer asks for the next part.
final class PlainHTTPClient: Sendable {
    struct PoolKey: Hashable {
        var eventLoop: ObjectIdentifier
        var host: String
        var port: Int
    }

    private let idle = NIOLockedValueBox<[PoolKey: [PlainHTTPConnection]]>([:])
    private let group: any EventLoopGroup
    static let maximumIdlePerKey = 128

    init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Sends one request and returns the response head with a reader for its body.
    func execute(
        host: String,
        port: Int,
        head: HTTPRequestHead,
        body: ByteBuffer,
        connectTimeout: TimeAmount,
        idleTimeout: TimeAmount,
        deadline: NIODeadline
    ) async throws -> (head: HTTPResponseHead, body: PlainHTTPBody) {
        let eventLoop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.any()
        let key = PoolKey(eventLoop: ObjectIdentifier(eventLoop), host: host, port: port)
        // A pooled connection the server closed meanwhile fails before any response byte: retry once on a new one.
        for attempt in 0..<2 {
            let reused = attempt == 0 ? takeIdle(key) : nil
            let connection: PlainHTTPConnection
            if let reused {
                connection = reused
            } else {
                connection = try await PlainHTTPConnection.connect(host: host, port: port, on: eventLoop, timeout: connectTimeout)
            }
            do {
                let responseHead = try await connection.send(head: head, body: body, idleTimeout: idleTimeout, deadline: deadline)
                return (responseHead, PlainHTTPBody(connection: connection, client: self, key: key, idleTimeout: idleTimeout))
            } catch PlainHTTPError.connectionClosed where reused != nil {
                connection.close()
                continue
            } catch {
                connection.close()
                throw error
            }
        }
        throw PlainHTTPError.connectionClosed
    }

    private func takeIdle(_ key: PoolKey) -> PlainHTTPConnection? {
        idle.withLockedValue { pool in
            while let connection = pool[key]?.popLast() {
                if connection.channel.isActive { return connection }
            }
            return nil
        }
    }

    fileprivate func release(_ connection: PlainHTTPConnection, key: PoolKey) {
        guard connection.reusable, connection.channel.isActive else {
            connection.close()
            return
        }
        let kept = idle.withLockedValue { pool -> Bool in
            guard pool[key, default: []].count < Self.maximumIdlePerKey else { return false }
            pool[key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every idle connection.
    func shutdown() {
        let all = idle.withLockedValue { pool in
            defer { pool = [:] }
            return pool.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }
}

/// The body of a plain-HTTP response, read chunk by chunk; returns the connection to the pool at its end.
struct PlainHTTPBody: AsyncIteratorProtocol {
    typealias Element = ByteBuffer
    let connection: PlainHTTPConnection
    let client: PlainHTTPClient
    let key: PlainHTTPClient.PoolKey
    let idleTimeout: TimeAmount
    private var done = false

    init(connection: PlainHTTPConnection, client: PlainHTTPClient, key: PlainHTTPClient.PoolKey, idleTimeout: TimeAmount) {
        self.connection = connection
        self.client = client
        self.key = key
        self.idleTimeout = idleTimeout
    }

    mutating func next() async throws -> ByteBuffer? {
        guard !done else { return nil }
        do {
            while true {
                switch try await connection.nextPart(idleTimeout: idleTimeout) {
                case .body(let buffer):
                    return buffer
                case .end:
                    done = true
                    connection.finishExchange()
                    client.release(connection, key: key)
                    return nil
                case .head:
                    throw PlainHTTPError.protocolError("a second response head")
                }
            }
        } catch {
            done = true
            connection.close()
            throw error
        }
    }

    /// Gives up on the rest of the body (the app went away): the connection cannot be reused.
    func abandon() {
        if !done { connection.close() }
    }
}

/// One pooled connection: a channel and the queue its response parts arrive in.
final class PlainHTTPConnection: Sendable {
    let channel: any Channel
    private let queue: ResponsePartQueue
    private let state = NIOLockedValueBox((reusable: true, deadline: Scheduled<Void>?.none))

    private init(channel: any Channel, queue: ResponsePartQueue) {
        self.channel = channel
        self.queue = queue
    }

    var reusable: Bool { state.withLockedValue { $0.reusable } }

    static func connect(host: String, port: Int, on eventLoop: any EventLoop, timeout: TimeAmount) async throws -> PlainHTTPConnection {
        let queue = ResponsePartQueue()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.autoRead, value: false)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponsePartHandler(queue: queue))
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch let error as ChannelError {
            if case .connectTimeout = error { throw PlainHTTPError.connectTimeout }
            throw PlainHTTPError.connectFailed(String(describing: error))
        } catch {
            throw PlainHTTPError.connectFailed(String(describing: error))
        }
        return PlainHTTPConnection(channel: channel, queue: queue)
    }

    /// Writes the request and waits for the response head.
    func send(head: HTTPRequestHead, body: ByteBuffer, idleTimeout: TimeAmount, deadline: NIODeadline) async throws -> HTTPResponseHead {
        queue.reset()
        let queue = self.queue
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) { queue.fail(PlainHTTPError.deadlineExceeded) }
        state.withLockedValue { $0.deadline = timer }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if body.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        // The wait for the head is bounded by the request deadline (and the route's firstTokenTimeout), not by the
        // stream-idle timeout, which is about silence between reads of a response already under way.
        guard case .head(let responseHead) = try await nextPart(idleTimeout: nil) else {
            throw PlainHTTPError.protocolError("response did not start with a head")
        }
        if !responseHead.isKeepAlive { state.withLockedValue { $0.reusable = false } }
        return responseHead
    }

    func nextPart(idleTimeout: TimeAmount?) async throws -> HTTPClientResponsePart {
        try await queue.next(channel: channel, idleTimeout: idleTimeout)
    }

    /// The response ended: stop its deadline.
    func finishExchange() {
        state.withLockedValue { $0.deadline?.cancel(); $0.deadline = nil }
    }

    func close() {
        state.withLockedValue { $0.reusable = false; $0.deadline?.cancel(); $0.deadline = nil }
        channel.close(promise: nil)
    }
}

/// A single-consumer queue of response parts, filled by the channel and emptied by the request's task.
final class ResponsePartQueue: Sendable {
    private struct State {
        var parts: [HTTPClientResponsePart] = []
        var failure: (any Error)?
        var waiter: CheckedContinuation<HTTPClientResponsePart, any Error>?
        var idleTimer: Scheduled<Void>?
    }

    private let state = NIOLockedValueBox(State())

    func reset() {
        state.withLockedValue { $0 = State() }
    }

    func push(_ part: HTTPClientResponsePart) {
        let waiter: CheckedContinuation<HTTPClientResponsePart, any Error>? = state.withLockedValue { state in
            if let waiter = state.waiter {
                state.waiter = nil
                state.idleTimer?.cancel()
                state.idleTimer = nil
                return waiter
            }
            state.parts.append(part)
            return nil
        }
        waiter?.resume(returning: part)
    }

    func fail(_ error: any Error) {
        let waiter: CheckedContinuation<HTTPClientResponsePart, any Error>? = state.withLockedValue { state in
            if state.failure == nil { state.failure = error }
            state.idleTimer?.cancel()
            state.idleTimer = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    func next(channel: any Channel, idleTimeout: TimeAmount?) async throws -> HTTPClientResponsePart {
        if let ready = try state.withLockedValue({ state -> HTTPClientResponsePart? in
            if !state.parts.isEmpty { return state.parts.removeFirst() }
            if let failure = state.failure { throw failure }
            return nil
        }) {
            return ready
        }
        // Cancellation (a first-token timeout, a caller gone) fails the wait; the connection is then closed.
        return try await withTaskCancellationHandler {
            try await waitForPart(channel: channel, idleTimeout: idleTimeout)
        } onCancel: {
            self.fail(CancellationError())
        }
    }

    private func waitForPart(channel: any Channel, idleTimeout: TimeAmount?) async throws -> HTTPClientResponsePart {
        try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<HTTPClientResponsePart, any Error>? = state.withLockedValue { state in
                if !state.parts.isEmpty { return .success(state.parts.removeFirst()) }
                if let failure = state.failure { return .failure(failure) }
                state.waiter = continuation
                if let idleTimeout {
                    state.idleTimer = channel.eventLoop.scheduleTask(in: idleTimeout) { [weak self] in self?.fail(PlainHTTPError.idleTimeout) }
                }
                return nil
            }
            if let immediate {
                continuation.resume(with: immediate)
            } else {
                channel.read()
            }
        }
    }
}

/// Hands response parts to the connection's queue and reports the connection's end.
final class ResponsePartHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let queue: ResponsePartQueue

    init(queue: ResponsePartQueue) {
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.push(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.fail(PlainHTTPError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        queue.fail(PlainHTTPError.protocolError(String(describing: error)))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ResponsePartHandler: Sendable {}
