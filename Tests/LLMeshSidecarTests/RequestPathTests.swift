import Foundation
import LLMeshModel
import LLMeshProviders
import Testing
@testable import LLMeshSidecar

@Suite(.serialized) struct RequestPathTests {
    static func config(upstreamPort: Int, keyFile: String, routeTimeout: String = "60s") -> String {
        """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: up}
        spec:
          type: OpenAI
          endpoint: http://127.0.0.1:\(upstreamPort)/v1
          auth: {apiKey: {file: \(keyFile)}}
          models: [{name: real-model, pricing: {inputPerMillion: 1000000, outputPerMillion: 0}}]
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: claude}
        spec: {type: Anthropic, endpoint: "http://127.0.0.1:\(upstreamPort)"}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: chat}
        spec:
          match: {model: app-model, aliases: [alias]}
          backends: [{provider: up, model: real-model}]
          timeout: \(routeTimeout)
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: wrong-dialect}
        spec:
          match: {model: claude-only}
          backends: [{provider: claude}]
        """
    }

    func withSidecar(routeTimeout: String = "60s", maximumBody: Int = 1 << 20, upstreamPort overridePort: Int? = nil, _ body: (_ port: Int, _ upstream: FakeUpstream, _ keyFile: URL, _ credentials: CredentialStore) async throws -> Void) async throws {
        let upstream = FakeUpstream()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("key")
        try Data("sk-real-1\n".utf8).write(to: keyFile)
        try await ServerHarness.withServer(upstream) { upstreamPort in
            let credentials = CredentialStore()
            var settings = SidecarSettings(configPath: "test.yaml")
            settings.maximumRequestBodyBytes = maximumBody
            let upstreams = UpstreamClients(eventLoopGroup: ServerHarness.group, proxy: EgressProxy())
            do {
                let handler = try ServerHarness.sidecarHandler(yaml: Self.config(upstreamPort: overridePort ?? upstreamPort, keyFile: keyFile.path, routeTimeout: routeTimeout), upstreams: upstreams, credentials: credentials, settings: settings)
                try await ServerHarness.withServer(handler, maximumBodyBytes: maximumBody) { port in
                    try await body(port, upstream, keyFile, credentials)
                }
            } catch {
                await upstreams.shutdown()
                throw error
            }
            await upstreams.shutdown()
        }
    }

    @Test func forwardsWithTheRealKeyAndTheUpstreamModelOnly() async throws {
        try await withSidecar { port, upstream, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias","messages":[]}"#, headers: [("authorization", "Bearer sk-app"), ("x-api-key", "sk-app"), ("x-custom", "kept")])
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-llmesh-input-tokens") == "11")
            #expect(response.headers.first(name: "x-llmesh-output-tokens") == "22")
            #expect(response.headers.first(name: "x-llmesh-cost-usd") == "11")
            let seen = upstream.received.withLockedValue { $0 }
            #expect(seen.count == 1)
            #expect(seen[0].path == "/v1/chat/completions")
            #expect(seen[0].headers[canonicalForm: "authorization"] == ["Bearer sk-real-1"])
            #expect(seen[0].headers.first(name: "x-api-key") == nil)
            #expect(seen[0].headers.first(name: "x-custom") == "kept")
            #expect(seen[0].body == #"{"model":"real-model","messages":[]}"#)
        }
    }

    @Test func rotatedKeyFilesTakeEffectWithoutRestart() async throws {
        try await withSidecar { port, upstream, keyFile, credentials in
            _ = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#)
            try Data("sk-real-2".utf8).write(to: keyFile)
            credentials.refresh(sources: [.file(keyFile.path)])
            _ = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#)
            let keys = upstream.received.withLockedValue { $0.map { $0.headers.first(name: "authorization") } }
            #expect(keys == ["Bearer sk-real-1", "Bearer sk-real-2"])
        }
    }

    @Test func hidesInjectedStreamUsageAndReportsItInAComment() async throws {
        try await withSidecar { port, upstream, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias","stream":true}"#)
            #expect(response.status == 200)
            #expect(upstream.received.withLockedValue { $0.last?.body } == #"{"model":"real-model","stream":true,"stream_options":{"include_usage":true}}"#)
            #expect(response.body == "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"}}]}\n\ndata: [DONE]\n\n: llmesh-usage {\"input_tokens\":9,\"output_tokens\":1,\"cached_input_tokens\":0,\"cost_usd\":9}\n\n")
        }
    }

    @Test func anUpstreamCutEndsTheStreamWithAnErrorEvent() async throws {
        try await withSidecar { port, _, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias","stream":true}"#, headers: [("x-test-fault", "cut")])
            #expect(response.body.contains("\"par\""))
            #expect(response.body.contains(#"data: {"error":{"message":"The upstream stream from 'up' ended before its final event.","type":"api_error","param":null,"code":"upstream_protocol_error"}}"#))
        }
    }

    @Test func passesUpstreamErrorsThrough() async throws {
        try await withSidecar { port, _, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#, headers: [("x-test-fault", "429")])
            #expect(response.status == 429)
            #expect(response.headers.first(name: "retry-after") == "7")
            #expect(response.body.contains("upstream says slow down"))
        }
    }

    @Test func timesOutWith504() async throws {
        try await withSidecar(routeTimeout: "300ms") { port, _, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#, headers: [("x-test-fault", "slow")])
            #expect(response.status == 504)
            #expect(response.headers.first(name: "x-llmesh-error") == "upstream_timeout")
        }
    }

    @Test func unreachableUpstreamIs502() async throws {
        try await withSidecar(upstreamPort: 1) { port, _, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#)
            #expect(response.status == 502)
            #expect(response.headers.first(name: "x-llmesh-error") == "upstream_unreachable")
        }
    }

    @Test func callerMistakesGetStableCodesInTheirDialect() async throws {
        try await withSidecar(maximumBody: 1024) { port, upstream, _, _ in
            let cases: [(String, String, Int, String)] = [
                ("/v1/chat/completions", "{oops", 400, "invalid_json"),
                ("/v1/chat/completions", #"{"messages":[]}"#, 400, "invalid_request"),
                ("/v1/chat/completions", #"{"model":"nope"}"#, 404, "model_not_found"),
                ("/v1/files", "{}", 404, "no_route"),
                // Chat completions translate to Anthropic Messages (and are checked as such); embeddings have no translation.
                ("/v1/embeddings", #"{"model":"claude-only","input":"x"}"#, 400, "dialect_mismatch"),
                ("/v1/chat/completions", #"{"model":"claude-only"}"#, 400, "invalid_request"),
                ("/v1/chat/completions", #"{"model":"claude-only","n":2,"messages":[{"role":"user","content":"hi"}]}"#, 400, "untranslatable_request"),
                ("/v1/chat/completions", #"{"model":"alias","pad":""# + String(repeating: "x", count: 3000) + #""}"#, 413, "request_too_large"),
            ]
            for (path, body, status, code) in cases {
                let response = try await ServerHarness.post(port, path: path, body: body)
                #expect(response.status == status, "\(path) \(body.prefix(30))")
                #expect(response.headers.first(name: "x-llmesh-error") == code)
                let document = try JSONDocument(validating: Array(response.body.utf8))
                #expect(document.value(at: "error", "code").flatMap(document.string) == code)
            }
            let anthropic = try await ServerHarness.post(port, path: "/v1/messages", body: #"{"model":"nope"}"#)
            #expect(anthropic.body.hasPrefix(#"{"type":"error","error":{"type":"not_found_error""#))
            #expect(upstream.received.withLockedValue { $0.isEmpty })
        }
    }

    @Test func malformedHTTPGets400AndTheServerKeepsServing() async throws {
        try await withSidecar { port, _, _, _ in
            let garbage = try RawSocket.exchange(port: port, send: Array("GARBAGE \u{1}\u{2} NOT HTTP\r\n\r\n".utf8))
            #expect(garbage.hasPrefix("HTTP/1.1 400"))
            let hugeHeader = try RawSocket.exchange(port: port, send: Array(("GET /v1/models HTTP/1.1\r\nx: " + String(repeating: "a", count: 200_000) + "\r\n\r\n").utf8))
            #expect(hugeHeader.hasPrefix("HTTP/1.1 4"))
            let truncated = try RawSocket.exchange(port: port, send: Array("POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 100\r\n\r\n{\"model\"".utf8), closeWriting: true)
            #expect(truncated.isEmpty || truncated.hasPrefix("HTTP/1.1 4"))
            let pipelined = try RawSocket.exchange(port: port, send: Array("GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".utf8))
            #expect(pipelined.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
            let after = try await ServerHarness.post(port, path: "/v1/chat/completions", body: #"{"model":"alias"}"#)
            #expect(after.status == 200)
        }
    }
}
