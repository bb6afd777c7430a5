import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The operator's service listener: HTTP/1.1, with TLS when a context provider is given, routing each complete
/// request to an async service by path prefix. The TLS context is asked for on every new connection, so a rotated
/// certificate is served without a restart.
public final class OperatorHTTPServer: Sendable {
    /// One route: requests whose path starts with `prefix` go to `handler`.
    public struct Route: Sendable {
        public var prefix: String
        public var handler: @Sendable (ServiceRequest) async -> ServiceResponse

        public init(prefix: String, handler: @escaping @Sendable (ServiceRequest) async -> ServiceResponse) {
            self.prefix = prefix
            self.handler = handler
        }
    }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds `host:port` (0 picks a free port) and serves `routes`.
    public static func start(host: String, port: Int, routes: [Route], tlsProvider tls: (@Sendable () -> NIOSSLContext?)?, maximumBodyBytes: Int = 4 * 1024 * 1024) async throws -> OperatorHTTPServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                do {
                    if let tls {
                        guard let context = tls() else { return channel.close() }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ServiceHTTPHandler(routes: routes, maximumBodyBytes: maximumBodyBytes))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: host, port: port).get()
        return OperatorHTTPServer(channel: channel)
    }

    /// Binds `host:port` and serves `routes`, over TLS from certificate files or the operator's own certificates.
    public static func start(host: String, port: Int, routes: [Route], tls: ReloadingTLSContext?, certificates: CertificateManager? = nil) async throws -> OperatorHTTPServer {
        var provider: (@Sendable () -> NIOSSLContext?)?
        if let tls { provider = { tls.current() } } else if let certificates { provider = { certificates.context() } }
        return try await start(host: host, port: port, routes: routes, tlsProvider: provider)
    }

    public var port: Int { channel.localAddress?.port ?? 0 }

    public func close() async {
        try? await channel.close()
    }
}

/// Collects one request (bounded), runs its service on a task and writes the answer back on the channel's loop.
private final class ServiceHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: [OperatorHTTPServer.Route]
    private let maximumBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(routes: [OperatorHTTPServer.Route], maximumBodyBytes: Int) {
        self.routes = routes
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > maximumBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let keepAlive = requestHead.isKeepAlive
            let version = requestHead.version
            if tooLarge {
                write(ServiceResponse.error(413, "request body larger than \(maximumBodyBytes) bytes"), version: version, keepAlive: false, context: context)
                return
            }
            let (path, query) = ServiceRequest.split(uri: requestHead.uri)
            let request = ServiceRequest(method: requestHead.method.rawValue, path: path, query: query, headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
            body = []
            guard let route = routes.first(where: { path.hasPrefix($0.prefix) }) else {
                write(ServiceResponse.error(404, "no such path \(path)"), version: version, keepAlive: keepAlive, context: context)
                return
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let handler = route.handler
            Task {
                let response = await handler(request)
                eventLoop.execute {
                    let (this, context) = loopBound.value
                    this.write(response, version: version, keepAlive: keepAlive, context: context)
                }
            }
        }
    }

    private func write(_ response: ServiceResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
