import LLMeshModel
import NIOConcurrencyHelpers
import Testing
@testable import LLMeshSidecar

@Suite struct SupportTypesTests {
    @Test func readyOnlyOnceEveryAppListenerIsBoundAndUntilDraining() {
        let readiness = Readiness(listeners: 2)
        #expect(!readiness.isReady)
        readiness.markListening()
        #expect(!readiness.isReady, "the HTTPS listener is not bound yet")
        readiness.markListening()
        #expect(readiness.isReady)
        readiness.markDraining()
        #expect(!readiness.isReady)
    }

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

    @Test func parsesUpstreamURLs() throws {
        let plain = try #require(URLParts("http://127.0.0.1:18000/v1/chat/completions?x=1"))
        #expect(plain.scheme == "http" && plain.host == "127.0.0.1" && plain.port == 18000)
        #expect(plain.pathAndQuery == "/v1/chat/completions?x=1" && plain.authority == "127.0.0.1:18000")
        let tls = try #require(URLParts("HTTPS://user:pw@bedrock-runtime.us-east-1.amazonaws.com/model/a%3A0/converse"))
        #expect(tls.scheme == "https" && tls.port == 443 && tls.host == "bedrock-runtime.us-east-1.amazonaws.com")
        #expect(tls.authority == "bedrock-runtime.us-east-1.amazonaws.com" && tls.pathAndQuery == "/model/a%3A0/converse")
        let v6 = try #require(URLParts("http://[::1]:8080"))
        #expect(v6.host == "::1" && v6.port == 8080 && v6.pathAndQuery == "/" && v6.authority == "[::1]:8080")
        #expect(URLParts("http://[fd00::1]/x")?.port == 80)
        for bad in ["", "ftp://h/x", "http:/h", "http://", "http://:80/x", "http://h:0/", "http://h:65536/", "http://h:8o/", "http://[::1]x/", "http://h:1:2/", "://h"] {
            #expect(URLParts(bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: [
        ("gpt-4o*", "gpt-4o-mini", true), ("gpt-4o*", "gpt-4o", true), ("gpt-4o*", "gpt-4", false),
        ("*-mini", "gpt-4o-mini", true), ("*-mini", "mini", false), ("*", "", true), ("*", "anything", true),
        ("a*b*c", "abc", true), ("a*b*c", "axxbyyc", true), ("a*b*c", "acb", false), ("ab*ab", "ab", false),
        ("ab*ab", "abab", true), ("aba*ba", "aba", false), ("aba*ba", "ababa", true), ("**", "x", true),
        ("claude-*-haiku*", "claude-3-5-haiku-20241022", true), ("claude-*-haiku*", "claude-3-5-sonnet", false),
        ("exact", "exact", true), ("exact", "exactly", false), ("*ü*", "menü-modell", true), ("*ü", "menu", false),
    ])
    func modelGlobs(pattern: String, name: String, matches: Bool) {
        #expect(ModelGlob.matches(pattern, name) == matches, "\(pattern) vs \(name)")
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

    @Test func triesTheBestPriorityFirstThenTheNext() {
        let selector = BackendSelector()
        let r = route([("primary-a", 3, 0), ("primary-b", 1, 0), ("fallback", 10, 1), ("off", 0, 0)])
        let plan = selector.plan(for: r, health: BackendHealth())
        #expect(plan.candidates.count == 3)
        #expect(Set(plan.candidates.prefix(2).map(\.providerName)) == ["primary-a", "primary-b"])
        #expect(plan.candidates.last?.providerName == "fallback")
        #expect(!plan.panic)
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

    @Test func skipsEjectedBackendsUnlessAllAreEjected() {
        let health = BackendHealth()
        let detection = OutlierDetection(consecutiveFailures: 2, baseEjectionTime: .seconds(60))
        let r = route([("a", 1, 0), ("b", 1, 1)])
        let a = BackendKey(provider: "a", model: "m"), b = BackendKey(provider: "b", model: "m")
        for _ in 0..<2 {
            health.begin(a)
            health.finish(a, failed: true, firstByte: nil, detection: detection)
        }
        #expect(health.isEjected(a))
        #expect(BackendSelector().plan(for: r, health: health).candidates.map(\.providerName) == ["b"])
        for _ in 0..<2 {
            health.begin(b)
            health.finish(b, failed: true, firstByte: nil, detection: detection)
        }
        let panic = BackendSelector().plan(for: r, health: health)
        #expect(panic.panic)
        #expect(panic.candidates.map(\.providerName) == ["a", "b"])
    }

    @Test func leastLatencyAndLeastInFlightPreferTheQuickAndTheIdle() {
        let health = BackendHealth()
        let detection = OutlierDetection()
        let slow = BackendKey(provider: "slow", model: "m"), quick = BackendKey(provider: "quick", model: "m")
        health.begin(slow)
        health.finish(slow, failed: false, firstByte: .milliseconds(900), detection: detection)
        health.begin(quick)
        health.finish(quick, failed: false, firstByte: .milliseconds(50), detection: detection)
        var latency = route([("slow", 1, 0), ("quick", 1, 0)])
        latency.spec.strategy = .leastLatency
        #expect(BackendSelector().pick(from: latency, health: health)?.providerName == "quick")
        health.begin(quick)
        health.begin(quick)
        var load = route([("slow", 1, 0), ("quick", 1, 0)])
        load.spec.strategy = .leastInFlight
        #expect(BackendSelector().pick(from: load, health: health)?.providerName == "slow")
    }

    @Test func ejectionCoolsDownThenProbesOnce() {
        let now = NIOLockedValueBox(ContinuousClock.now)
        let health = BackendHealth(clock: { now.withLockedValue { $0 } })
        let detection = OutlierDetection(consecutiveFailures: 1, baseEjectionTime: .seconds(30), maxEjectionTime: .seconds(300))
        let key = BackendKey(provider: "p", model: "m")
        health.begin(key)
        #expect(health.finish(key, failed: true, firstByte: nil, detection: detection))
        #expect(health.admit(key) == .ejected)
        now.withLockedValue { $0 += .seconds(31) }
        #expect(health.admit(key) == .probe)
        #expect(health.admit(key) == .ejected)  // one probe at a time
        health.begin(key)
        health.finish(key, failed: true, firstByte: nil, detection: detection)
        now.withLockedValue { $0 += .seconds(31) }
        #expect(health.admit(key) == .ejected)  // second ejection lasts 60 s
        now.withLockedValue { $0 += .seconds(30) }
        #expect(health.admit(key) == .probe)
        health.begin(key)
        health.finish(key, failed: false, firstByte: nil, detection: detection)
        #expect(health.admit(key) == .healthy)
    }

    @Test func errorRateEjectsOnlyWithEnoughRequests() {
        let health = BackendHealth()
        let detection = OutlierDetection(consecutiveFailures: 0, errorRatePercent: 50, minimumRequests: 10)
        let key = BackendKey(provider: "p", model: "m")
        for index in 0..<9 {
            health.begin(key)
            health.finish(key, failed: index % 2 == 0, firstByte: nil, detection: detection)
        }
        #expect(!health.isEjected(key))
        health.begin(key)
        health.finish(key, failed: true, firstByte: nil, detection: detection)
        #expect(health.isEjected(key))
    }

    @Test func retryBudgetAllowsAFloorThenAShare() {
        let budget = RetryBudget()
        for _ in 0..<10 { budget.recordRequest(route: "r") }
        let allowed = (0..<10).filter { _ in budget.tryRetry(route: "r", budgetPercent: 20) }.count
        #expect(allowed == 3)
        for _ in 0..<90 { budget.recordRequest(route: "r") }
        #expect((0..<30).filter { _ in budget.tryRetry(route: "r", budgetPercent: 20) }.count == 17)
    }

    @Test func headerMatchesTakePrecedence() throws {
        let bundle = try ConfigFileLoader().load(yaml: """
            apiVersion: llmesh.io/v1alpha1
            kind: LLMProvider
            metadata: {name: mock}
            spec: {type: Mock}
            ---
            apiVersion: llmesh.io/v1alpha1
            kind: LLMRoute
            metadata: {name: basic}
            spec: {match: {model: chat}, backends: [{provider: mock, model: small}]}
            ---
            apiVersion: llmesh.io/v1alpha1
            kind: LLMRoute
            metadata: {name: premium}
            spec: {match: {model: chat, headers: {X-Tier: premium}}, backends: [{provider: mock, model: large}]}
            """)
        let policy = try RuntimePolicy(bundle: bundle, version: 1, source: "t", standalone: true)
        #expect(policy.route(for: "chat", header: { $0 == "x-tier" ? "premium" : nil })?.name == "premium")
        #expect(policy.route(for: "chat", header: { $0 == "x-tier" ? "free" : nil })?.name == "basic")
        #expect(policy.route(for: "chat")?.name == "basic")
        #expect(policy.exposedModels == ["chat"])
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
