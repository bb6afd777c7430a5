import NIOCore
import NIOHTTP1
import NIOPosix

/// The operator's plain-HTTP admin listener: `/healthz`, `/readyz` and `/metrics`.
public final class OperatorAdminServer: Sendable {
    /// Answers one admin request: status, content type and body.
    public typealias Responder = @Sendable (_ method: HTTPMethod, _ path: String) -> (HTTPResponseStatus, String, [UInt8])

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds `host:port` (port 0 picks a free one) and serves `responder`.
    public static func start(host: String, port: Int, responder: @escaping Responder) async throws -> OperatorAdminServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(AdminHTTPHandler(responder: responder))
                }
            }
            .bind(host: host, port: port).get()
        return OperatorAdminServer(channel: channel)
    }

    /// The bound port.
    public var port: Int { channel.localAddress?.port ?? 0 }

    public func close() async {
        try? await channel.close()
    }
}

/// Reads each request head, discards the body and answers from the responder.
private final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: OperatorAdminServer.Responder
    private var head: HTTPRequestHead?

    init(responder: @escaping OperatorAdminServer.Responder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let path = String(requestHead.uri.prefix { $0 != "?" })
            let (status, contentType, body) = responder(requestHead.method, path)
            var headers = HTTPHeaders([("content-type", contentType), ("content-length", String(body.count))])
            if !requestHead.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = requestHead.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
