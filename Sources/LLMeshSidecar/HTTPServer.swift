import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A request with its whole body, read up to the server's limit.
public struct ServerRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: ByteBuffer
    /// The body was longer than the limit; `body` holds nothing then.
    public var bodyTooLarge: Bool
    /// When the last byte of the request arrived.
    public var receivedAt: ContinuousClock.Instant
}

/// Answers requests for an ``HTTPServer``.
public protocol HTTPRequestHandler: Sendable {
    func handle(_ request: ServerRequest, response: ResponseWriter) async
}

/// A plain HTTP/1.1 server on SwiftNIO: keep-alive, pipelining, bounded bodies and graceful shutdown.
///
/// Protocol work (parsing, framing, pipelining) stays in NIO's channel handlers; each connection is then
/// served by structured async code. On graceful shutdown the listener closes at once, idle keep-alive
/// connections close, and busy ones finish their current response with `connection: close`.
public struct HTTPServer<Handler: HTTPRequestHandler>: Service {
    public let name: String
    let address: ListenAddress
    let handler: Handler
    let maximumBodyBytes: Int
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// TLS for every accepted connection, when set (the loopback HTTPS listener for Bedrock bearer mode).
    let tls: NIOSSLContext?
    /// Called once the listener is bound, with its real port (useful when binding port 0).
    let onBound: @Sendable (Int) -> Void
    /// Called when graceful shutdown begins, before the listener closes.
    let onShutdown: @Sendable () -> Void
    /// False from the moment graceful shutdown begins.
    private let accepting = NIOLockedValueBox(true)

    public init(
        name: String,
        address: ListenAddress,
        handler: Handler,
        maximumBodyBytes: Int,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        tls: NIOSSLContext? = nil,
        onBound: @escaping @Sendable (Int) -> Void = { _ in },
        onShutdown: @escaping @Sendable () -> Void = {}
    ) {
        self.name = name
        self.address = address
        self.handler = handler
        self.maximumBodyBytes = maximumBodyBytes
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.tls = tls
        self.onBound = onBound
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        let server: Listener
        do {
            server = try await bind()
        } catch {
            throw ListenerBindError(listener: name, address: "\(address.host):\(address.port)", reason: "\(error)")
        }
        let port = server.channel.localAddress?.port ?? address.port
        try await serve(listener: server, port: port)
    }

    /// The type of a bound listener: a stream of connections, each an async channel of HTTP parts.
    typealias Listener = NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

    private func bind() async throws -> Listener {
        try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: address.host, port: address.port) { [accepting, tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    // A connection accepted while the listener closes may never reach the accept loop; wrapping it
                    // would leave an async writer that is never finished. Refuse it before it is wrapped.
                    guard accepting.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func serve(listener server: Listener, port: Int) async throws {
        let accepting = self.accepting
        logger.info("listening", metadata: ["listener": "\(name)", "address": "\(address.host):\(port)"])
        onBound(port)
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            onShutdown()
            accepting.withLockedValue { $0 = false }
            serverChannel.close(promise: nil)
        }
        logger.info("listener stopped", metadata: ["listener": "\(name)"])
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let state = ConnectionState()
        let channel = connection.channel
        do {
            try await withGracefulShutdownHandler {
                try await connection.executeThenClose { inbound, outbound in
                    var parts = inbound.makeAsyncIterator()
                    while let part = try await parts.next() {
                        guard case .head(let head) = part else { continue }
                        state.begin()
                        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                        }
                        var body = channel.allocator.buffer(capacity: 0)
                        var tooLarge = false
                        var receivedBytes = 0
                        reading: while let next = try await parts.next() {
                            switch next {
                            case .body(var chunk):
                                receivedBytes += chunk.readableBytes
                                if receivedBytes > maximumBodyBytes {
                                    tooLarge = true
                                    body.clear()
                                    // Drain up to four times the limit so the client can read the 413; beyond that, hang up.
                                    if receivedBytes > maximumBodyBytes * 4 { return }
                                } else {
                                    body.writeBuffer(&chunk)
                                }
                            case .end:
                                break reading
                            case .head:
                                return
                            }
                        }
                        let request = ServerRequest(head: head, body: body, bodyTooLarge: tooLarge, receivedAt: .now)
                        let keepAlive = head.isKeepAlive && !tooLarge
                        let writer = ResponseWriter(outbound: outbound, version: head.version, keepAlive: keepAlive, state: state)
                        await handler.handle(request, response: writer)
                        if !keepAlive || !state.finish() { break }
                    }
                }
            } onGracefulShutdown: {
                if state.drain() { channel.close(promise: nil) }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }
}

/// A listener could not be opened (the port is taken, the address is not local): the sidecar cannot serve at all.
public struct ListenerBindError: Error, CustomStringConvertible {
    public var listener: String
    public var address: String
    public var reason: String

    public var description: String { "cannot listen on \(address) (\(listener) listener): \(reason)" }
}

/// Whether a connection is between requests, and whether it should close after the current one.
final class ConnectionState: Sendable {
    private struct State {
        var busy = false
        var draining = false
    }

    private let state = NIOLockedValueBox(State())

    func begin() { state.withLockedValue { $0.busy = true } }

    /// Marks the request done; returns whether the connection may serve another.
    func finish() -> Bool {
        state.withLockedValue {
            $0.busy = false
            return !$0.draining
        }
    }

    /// Starts draining; returns whether the connection is idle and can close now.
    func drain() -> Bool {
        state.withLockedValue {
            $0.draining = true
            return !$0.busy
        }
    }

    var isDraining: Bool { state.withLockedValue { $0.draining } }
}

/// Writes one HTTP response: a head, then body chunks, then the end.
public struct ResponseWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    let version: HTTPVersion
    let keepAlive: Bool
    let state: ConnectionState

    /// Sends the status line and headers; adds `connection: close` when the connection will not be reused.
    public func writeHead(status: Int, headers: HTTPHeaders) async throws {
        var headers = headers
        if !keepAlive || state.isDraining {
            headers.replaceOrAdd(name: "connection", value: "close")
        }
        try await outbound.write(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)))
    }

    public func writeBody(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        try await outbound.write(.body(.byteBuffer(buffer)))
    }

    public func writeBody(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
    }

    public func end() async throws {
        try await outbound.write(.end(nil))
    }

    /// A complete response with a known length, handed to the channel in one write (one flush, one syscall).
    public func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) async throws {
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive || state.isDraining { headers.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        var parts: [HTTPServerResponsePart] = [.head(head)]
        if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }
}
