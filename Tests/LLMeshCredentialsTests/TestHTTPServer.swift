import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server on 127.0.0.1 for tests, standing in for STS and the Pod Identity agent: it records every
/// request (with its form fields decoded) and answers from an async closure, which may wait.
final class TestHTTPServer: Sendable {
    /// A request as received.
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The `application/x-www-form-urlencoded` fields of the body, decoded.
        var form: [String: String] {
            var fields: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[0])
                let raw = parts.count > 1 ? String(parts[1]) : ""
                fields[name] = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
            }
            return fields
        }
    }

    /// An answer.
    struct Response: Sendable {
        var status: Int
        var body: String
        var contentType: String

        init(status: Int = 200, body: String, contentType: String = "text/xml") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    /// Answers the `index`-th request (zero-based).
    typealias Responder = @Sendable (_ request: Request, _ index: Int) async -> Response

    private let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let recorded = NIOLockedValueBox<[Request]>([])
    private let connections = NIOLockedValueBox<[any Channel]>([])
    private let acceptor = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private init(channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>) {
        self.channel = channel
    }

    static func start(_ respond: @escaping Responder) async throws -> TestHTTPServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: child)
                }
            }
        let server = TestHTTPServer(channel: channel)
        let task = Task { await server.accept(respond) }
        server.acceptor.withLockedValue { $0 = task }
        return server
    }

    var port: Int { channel.channel.localAddress?.port ?? 0 }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { recorded.withLockedValue { $0 } }
    var requestCount: Int { recorded.withLockedValue { $0.count } }

    /// Stops listening and drops every connection.
    func shutdown() async {
        try? await channel.channel.close()
        for connection in connections.withLockedValue({ $0 }) { try? await connection.close() }
        let task = acceptor.withLockedValue { $0 }
        await task?.value
    }

    private func accept(_ respond: @escaping Responder) async {
        try? await channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    connections.withLockedValue { $0.append(connection.channel) }
                    group.addTask { await self.serve(connection, respond) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, _ respond: Responder) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let head else { continue }
                    let request = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: String(buffer: body))
                    let index = recorded.withLockedValue { list -> Int in
                        list.append(request)
                        return list.count - 1
                    }
                    let response = await respond(request, index)
                    var headers = HTTPHeaders()
                    headers.add(name: "content-type", value: response.contentType)
                    headers.add(name: "content-length", value: String(response.body.utf8.count))
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}
