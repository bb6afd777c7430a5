import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Errors of the Redis client.
public struct RESPClientError: Error, Sendable, CustomStringConvertible {
    public var description: String

    static let timeout = RESPClientError(description: "the Redis server did not answer in time")
    static let closed = RESPClientError(description: "the connection to the Redis server closed")
}

/// A small Redis (RESP2) client on SwiftNIO: one pipelined connection, re-established on demand.
///
/// Commands are written as they come and answered in order, so concurrent callers share one connection without
/// waiting for each other's round trips. A lost connection fails the commands in flight; the next command dials again.
public final class RESPClient: Sendable {
    public let host: String
    public let port: Int
    let timeout: Duration
    private let group: any EventLoopGroup
    private let channel = NIOLockedValueBox<EventLoopFuture<any Channel>?>(nil)

    public init(host: String, port: Int, timeout: Duration = .milliseconds(250), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.group = group
    }

    /// Sends one command and waits for its reply; a Redis error reply is returned as `.error`, not thrown.
    public func send(_ parts: [String]) async throws -> RESPValue {
        let channel = try await connection()
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let timeout = self.timeout
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
            promise.fail(RESPClientError.timeout)
        }
        channel.writeAndFlush(RESPCommand(bytes: RESPValue.command(parts), promise: promise), promise: nil)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    private func connection() async throws -> any Channel {
        let future: EventLoopFuture<any Channel> = channel.withLockedValue { current in
            if let current { return current }
            let made = ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(timeout.components.seconds) * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RESPClientHandler()) }
                }
                .connect(host: host, port: port)
            current = made
            return made
        }
        do {
            let channel = try await future.get()
            if channel.isActive { return channel }
            forget(future)
            throw RESPClientError.closed
        } catch {
            forget(future)
            throw error
        }
    }

    private func forget(_ future: EventLoopFuture<any Channel>) {
        channel.withLockedValue { current in
            if current === future { current = nil }
        }
    }

    /// Closes the connection.
    public func close() async {
        let future = channel.withLockedValue { current in
            defer { current = nil }
            return current
        }
        if let channel = try? await future?.get() { try? await channel.close() }
    }
}

/// A command on its way out, with the promise its reply completes.
struct RESPCommand {
    var bytes: [UInt8]
    var promise: EventLoopPromise<RESPValue>
}

/// Writes commands and matches replies to them in order.
final class RESPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    private var parser = RESPParser()
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        waiting.append(command.promise)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: command.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        parser.feed(buffer.readableBytesView)
        do {
            while let value = try parser.next() {
                guard let promise = waiting.popFirst() else {
                    context.close(promise: nil)
                    return
                }
                promise.succeed(value)
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RESPClientError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}

@available(*, unavailable)
extension RESPClientHandler: Sendable {}
