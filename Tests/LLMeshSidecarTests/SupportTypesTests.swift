import LLMeshModel
import Testing
@testable import LLMeshSidecar

@Suite struct SupportTypesTests {
    @Test func readsProxyEnvironmentLikeCurl() {
        let proxy = EgressProxy(environment: ["HTTPS_PROXY": "http://user:pw@proxy.corp:3128", "no_proxy": "internal.corp, .svc.cluster.local,10.0.0.1"])
        #expect(proxy.https == EgressProxy.Server(host: "proxy.corp", port: 3128))
        #expect(proxy.server(forScheme: "https", host: "api.openai.com") == EgressProxy.Server(host: "proxy.corp", port: 3128))
        #expect(proxy.server(forScheme: "https", host: "vllm.internal.corp") == nil)
        #expect(proxy.server(forScheme: "https", host: "ollama.ns.svc.cluster.local") == nil)
        #expect(proxy.server(forScheme: "https", host: "10.0.0.1") == nil)
        #expect(proxy.server(forScheme: "https", host: "127.0.0.1") == nil)
        #expect(proxy.server(forScheme: "http", host: "api.openai.com") == nil)
        #expect(EgressProxy(environment: ["HTTPS_PROXY": "p:1", "NO_PROXY": "*"]).server(forScheme: "https", host: "x.com") == nil)
        #expect(EgressProxy.parseServer("proxy") == EgressProxy.Server(host: "proxy", port: 80))
    }

    @Test func parsesListenAddresses() {
        #expect(ListenAddress(parsing: "127.0.0.1:15080") == ListenAddress(host: "127.0.0.1", port: 15080))
        #expect(ListenAddress(parsing: "[::1]:9") == ListenAddress(host: "::1", port: 9))
        #expect(ListenAddress(parsing: "15080") == nil)
        #expect(ListenAddress(parsing: "host:99999") == nil)
        #expect(ListenAddress(parsing: ":80") == nil)
    }

    func route(_ backends: [(String, Int, Int)]) -> ResolvedRoute {
        ResolvedRoute(
            name: "r",
            spec: LLMRouteSpec(match: RouteMatch(model: "m"), backends: []),
            backends: backends.map { ResolvedBackend(providerName: $0.0, provider: LLMProviderSpec(type: .mock), upstreamModel: "m", weight: $0.1, priority: $0.2) }
        )
    }

    @Test func picksTheBestPriorityThenByWeight() {
        let selector = BackendSelector()
        let r = route([("primary-a", 3, 0), ("primary-b", 1, 0), ("fallback", 10, 1)])
        #expect(selector.pick(from: r, random: { _ in 0 })?.providerName == "primary-a")
        #expect(selector.pick(from: r, random: { _ in 2 })?.providerName == "primary-a")
        #expect(selector.pick(from: r, random: { _ in 3 })?.providerName == "primary-b")
        #expect(selector.pick(from: route([("off", 0, 0), ("on", 1, 1)]))?.providerName == "on")
        #expect(selector.pick(from: route([])) == nil)
    }

    @Test func weightedChoiceConvergesToTheWeights() {
        let selector = BackendSelector()
        let r = route([("ninety", 90, 0), ("ten", 10, 0)])
        var counts: [String: Int] = [:]
        for _ in 0..<20_000 { counts[selector.pick(from: r)?.providerName ?? "", default: 0] += 1 }
        let share = Double(counts["ninety", default: 0]) / 20_000
        #expect(abs(share - 0.9) < 0.015)
    }

    @Test func standaloneSidecarsRefuseSecretReferences() throws {
        let bundle = try ConfigFileLoader().load(yaml: """
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: openai}
            spec: {type: OpenAI, auth: {apiKey: {secretRef: {name: openai, key: apiKey}}}}
            """)
        #expect(throws: ConfigValidationError.self) { try RuntimePolicy(bundle: bundle, version: 1, source: "f", standalone: true) }
        #expect((try? RuntimePolicy(bundle: bundle, version: 1, source: "f", standalone: false)) != nil)
    }

    @Test func accessLogLinesAreJSONWithoutContent() {
        let record = AccessLogRecord(timestamp: "t", requestID: "id\"", method: "POST", path: "/v1/x", api: nil, status: 200, errorCode: nil, model: "m", upstreamModel: nil, route: nil, provider: nil, stream: false, usage: nil, costUSD: 0.5, durationMilliseconds: 1.23456, timeToFirstByteMilliseconds: nil, overheadMicroseconds: 12)
        #expect(record.json == #"{"ts":"t","request_id":"id\"","method":"POST","path":"/v1/x","status":200,"stream":false,"model":"m","cost_usd":0.5,"duration_ms":1.235,"overhead_us":12}"#)
    }
}
