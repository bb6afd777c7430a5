import Foundation
import LLMeshModel
import LLMeshProviders
import Testing
@testable import LLMeshSidecar

/// Retries, fallbacks and ejection against two fake upstreams: `bad` fails in a chosen way, `good` answers.
@Suite(.serialized) struct ResilienceTests {
    static func config(badPort: Int, goodPort: Int, route: String, detection: String = "{consecutiveFailures: 5}") -> String {
        """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: bad}
        spec: {type: OpenAI, endpoint: "http://127.0.0.1:\(badPort)/v1", outlierDetection: \(detection)}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: good}
        spec: {type: OpenAI, endpoint: "http://127.0.0.1:\(goodPort)/v1"}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: chat}
        spec:
          match: {model: chat}
          backends:
            - {provider: bad, model: bad-model, priority: 0}
            - {provider: good, model: good-model, priority: 1}
        \(route.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    func withUpstreams(badFault: String, route: String, detection: String = "{consecutiveFailures: 5}", _ body: (_ port: Int, _ bad: FakeUpstream, _ good: FakeUpstream, _ health: BackendHealth) async throws -> Void) async throws {
        var bad = FakeUpstream()
        bad.defaultFault = badFault
        let good = FakeUpstream()
        try await ServerHarness.withServer(bad) { badPort in
            try await ServerHarness.withServer(good) { goodPort in
                let upstreams = UpstreamClients(eventLoopGroup: ServerHarness.group, proxy: EgressProxy())
                let health = BackendHealth()
                do {
                    let handler = try ServerHarness.sidecarHandler(yaml: Self.config(badPort: badPort, goodPort: goodPort, route: route, detection: detection), upstreams: upstreams, health: health)
                    try await ServerHarness.withServer(handler) { port in try await body(port, bad, good, health) }
                } catch {
                    await upstreams.shutdown()
                    throw error
                }
                await upstreams.shutdown()
            }
        }
    }

    let chat = #"{"model":"chat","messages":[]}"#

    @Test func fallsBackOn5xxAndSaysWhoServed() async throws {
        try await withUpstreams(badFault: "503", route: "fallbackOn: [5xx]") { port, bad, good, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-llmesh-backend") == "good/good-model")
            #expect(response.headers.first(name: "x-llmesh-attempts") == "2")
            #expect(response.headers.first(name: "x-llmesh-input-tokens") == "11")
            #expect(bad.received.withLockedValue { $0.count } == 1)
            #expect(good.received.withLockedValue { $0.first?.body } == #"{"model":"good-model","messages":[]}"#)
        }
    }

    @Test func withoutAFallbackTheUpstreamErrorPassesThrough() async throws {
        try await withUpstreams(badFault: "503", route: "fallbackOn: []\nretry: {attempts: 1}") { port, _, good, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            #expect(response.status == 503)
            #expect(response.body.contains("upstream overloaded"))
            #expect(response.headers.first(name: "x-llmesh-attempts") == "1")
            #expect(good.received.withLockedValue { $0.isEmpty })
        }
    }

    @Test func retriesHonourRetryAfterThenGiveTheLastAnswer() async throws {
        try await withUpstreams(badFault: "429", route: "retry: {attempts: 2, on: [\"429\"], backoff: 10ms, maxBackoff: 100ms}") { port, bad, _, _ in
            let started = ContinuousClock.now
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 429)
            #expect(response.headers.first(name: "x-llmesh-attempts") == "2")
            #expect(bad.received.withLockedValue { $0.count } == 2)
            // retry-after: 7 is capped at four times maxBackoff, 400 ms.
            #expect(elapsed >= .milliseconds(400))
        }
    }

    @Test func aStallBeforeTheFirstByteFallsBack() async throws {
        // The stalled backend would answer 200 after 60 s: only a fallback at the first-token timeout makes `good`
        // answer. The timeout leaves `good` 5 s, which a loaded machine needs.
        try await withUpstreams(badFault: "stall", route: "firstTokenTimeout: 5s\nfallbackOn: [firstTokenTimeout]") { port, bad, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-llmesh-backend") == "good/good-model")
            #expect(response.headers.first(name: "x-llmesh-attempts") == "2")
            #expect(bad.received.withLockedValue { $0.count } == 1)
        }
    }

    @Test func contextLengthErrorsFallBackToABiggerModel() async throws {
        try await withUpstreams(badFault: "context", route: "fallbackOn: [contextLength]") { port, _, _, _ in
            let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-llmesh-backend") == "good/good-model")
        }
    }

    @Test func ejectedBackendsAreSkippedUntilTheirCoolDown() async throws {
        try await withUpstreams(badFault: "503", route: "fallbackOn: [5xx]", detection: "{consecutiveFailures: 2, baseEjectionTime: 60s}") { port, bad, _, health in
            for _ in 0..<2 {
                let response = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
                #expect(response.headers.first(name: "x-llmesh-attempts") == "2")
            }
            #expect(health.isEjected(BackendKey(provider: "bad", model: "bad-model")))
            let third = try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat)
            #expect(third.status == 200)
            #expect(third.headers.first(name: "x-llmesh-attempts") == "1")
            #expect(bad.received.withLockedValue { $0.count } == 2)
        }
    }

    @Test func anUnreachableBackendFallsBackOnConnectFailure() async throws {
        let good = FakeUpstream()
        try await ServerHarness.withServer(good) { goodPort in
            let upstreams = UpstreamClients(eventLoopGroup: ServerHarness.group, proxy: EgressProxy())
            let handler = try ServerHarness.sidecarHandler(yaml: Self.config(badPort: 1, goodPort: goodPort, route: "fallbackOn: [connectFailure]"), upstreams: upstreams)
            let response = try await ServerHarness.withServer(handler) { port in try await ServerHarness.post(port, path: "/v1/chat/completions", body: chat) }
            await upstreams.shutdown()
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-llmesh-backend") == "good/good-model")
        }
    }
}
