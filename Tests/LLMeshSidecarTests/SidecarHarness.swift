import AsyncHTTPClient
import Foundation
import LLMeshModel
import LLMeshProviders
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import LLMeshSidecar

/// A fake OpenAI/Anthropic upstream built on the sidecar's own HTTP server type, recording what it receives.
struct FakeUpstream: HTTPRequestHandler {
    struct Received: Sendable {
        var path: String
        var headers: HTTPHeaders
        var body: String
    }

    let received = NIOLockedValueBox<[Received]>([])
    /// The fault applied when a request names none in `x-test-fault`.
    var defaultFault = ""

    func handle(_ request: ServerRequest, response: ResponseWriter) async {
        let body = String(buffer: request.body)
        received.withLockedValue { $0.append(Received(path: request.head.uri, headers: request.head.headers, body: body)) }
        var headers = HTTPHeaders()
        let fault = request.head.headers.first(name: "x-test-fault") ?? defaultFault
        do {
            switch fault {
            case "slow", "stall":
                try await Task.sleep(for: .seconds(fault == "slow" ? 3 : 60))
                headers.add(name: "content-type", value: "application/json")
                try await response.respond(status: 200, headers: headers, body: Array("{}".utf8))
            case "503":
                headers.add(name: "content-type", value: "application/json")
                try await response.respond(status: 503, headers: headers, body: Array(#"{"error":{"message":"upstream overloaded","type":"server_error"}}"#.utf8))
            case "context":
                headers.add(name: "content-type", value: "application/json")
                try await response.respond(status: 400, headers: headers, body: Array(#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#.utf8))
            case "429":
                headers.add(name: "content-type", value: "application/json")
                headers.add(name: "retry-after", value: "7")
                try await response.respond(status: 429, headers: headers, body: Array(#"{"error":{"message":"upstream says slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#.utf8))
            case "cut":
                headers.add(name: "content-type", value: "text/event-stream")
                try await response.writeHead(status: 200, headers: headers)
                try await response.writeBody(Array("data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}],\"usage\":null}\n\n".utf8))
                try await response.end()
            default:
                if body.contains("\"stream\":true") {
                    headers.add(name: "content-type", value: "text/event-stream")
                    try await response.writeHead(status: 200, headers: headers)
                    try await response.writeBody(Array("data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"}}],\"usage\":null}\n\n".utf8))
                    try await response.writeBody(Array("data: {\"id\":\"1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n".utf8))
                    try await response.end()
                } else {
                    headers.add(name: "content-type", value: "application/json")
                    try await response.respond(status: 200, headers: headers, body: Array(#"{"id":"x","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":22}}"#.utf8))
                }
            }
        } catch {}
    }
}

/// Runs HTTP servers on ephemeral loopback ports for the duration of a test.
struct ServerHarness {
    static let group = MultiThreadedEventLoopGroup.singleton
    static let logger = Logger(label: "test")

    /// Starts `handler` on 127.0.0.1:0, runs `body` with the bound port, then stops the server.
    static func withServer<Handler: HTTPRequestHandler, T: Sendable>(
        _ handler: Handler,
        maximumBodyBytes: Int = 1 << 20,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = HTTPServer(name: "test", address: ListenAddress(host: "127.0.0.1", port: 0), handler: handler, maximumBodyBytes: maximumBodyBytes, eventLoopGroup: group, logger: logger, onBound: { continuation.yield($0) })
        let task = Task { try await server.run() }
        defer { task.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return try await body(port)
    }

    /// A sidecar handler on `yaml`, with a key file the test can rewrite.
    static func sidecarHandler(yaml: String, upstreams: UpstreamClients, credentials: CredentialStore = CredentialStore(), health: BackendHealth = BackendHealth(), settings: SidecarSettings = SidecarSettings(configPath: "test.yaml")) throws -> LLMRequestHandler {
        let bundle = try ConfigFileLoader().load(yaml: yaml)
        let policy = try RuntimePolicy(bundle: bundle, version: 1, source: "test", standalone: true)
        return LLMRequestHandler(
            settings: settings,
            store: PolicyStore(initial: policy),
            credentials: credentials,
            upstreams: upstreams,
            metrics: SidecarMetrics(),
            accessLog: AccessLog(enabled: false),
            health: health,
            logger: logger
        )
    }

    static func post(_ port: Int, path: String, body: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(contentsOf: headers)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), response.headers, String(buffer: collected))
    }
}

/// A raw TCP exchange, for bytes no HTTP client would send.
enum RawSocket {
    static func exchange(port: Int, send bytes: [UInt8], closeWriting: Bool = false) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        // MSG_NOSIGNAL: a server that hangs up on a request it refused must not raise SIGPIPE in the test process.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if closeWriting { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
