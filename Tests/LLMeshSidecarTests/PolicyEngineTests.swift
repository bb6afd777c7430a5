import LLMeshLimits
import LLMeshModel
import LLMeshProviders
import Logging
import NIOHTTP1
import Testing
@testable import LLMeshSidecar

@Suite struct PolicyEngineTests {
    static let yaml = """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: p}
        spec: {type: Mock, models: [{name: m, pricing: {inputPerMillion: 1000000, outputPerMillion: 1000000}}]}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: r}
        spec: {match: {model: m}, backends: [{provider: p}]}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMPolicy
        metadata: {name: pol}
        spec:
          limits: {tokensPerMinute: 1000, maxParallel: 2}
          budget: {usd: 1000, period: Daily}
        """

    func setUp() throws -> (PolicyEngine, RuntimePolicy, LocalCounterStore) {
        let policy = try RuntimePolicy(bundle: try ConfigFileLoader().load(yaml: Self.yaml), version: 1, source: "t", standalone: true)
        let local = LocalCounterStore()
        let engine = PolicyEngine(workload: WorkloadIdentity(), global: nil, metrics: SidecarMetrics(), logger: Logger(label: "t"), local: local)
        return (engine, policy, local)
    }

    func request(_ policy: RuntimePolicy, maxTokens: Int) throws -> AdmissionRequest {
        let body = #"{"model":"m","max_tokens":\#(maxTokens),"messages":[]}"#
        let inspected = try InspectedRequest(body: Array(body.utf8), kind: .chatCompletions)
        return AdmissionRequest(policy: policy, headers: HTTPHeaders(), inspected: inspected, kind: .chatCompletions, route: try #require(policy.route(for: "m")), now: 1_795_345_200)
    }

    @Test func settlesReservationsToRealUsage() async throws {
        let (engine, policy, local) = try setUp()
        let grant = try await engine.admit(try request(policy, maxTokens: 100))
        let tokenKey = try #require(grant.reservations.first { $0.kind == .tokens }?.key)
        let reserved = local.values([tokenKey])[0]
        #expect(reserved > 100)
        await engine.settle(grant, usage: TokenUsage(input: 10, output: 5), costUSD: 15)
        #expect(local.values([tokenKey]) == [15])
        let spendKey = try #require(grant.reservations.first { $0.kind == .microdollars }?.key)
        #expect(local.values([spendKey]) == [15_000_000])
        #expect(local.values(["par:policy:pol"]) == [0])
    }

    @Test func aCancelledRequestKeepsItsReservationButFreesItsSlot() async throws {
        let (engine, policy, local) = try setUp()
        let task = Task { () -> AdmissionGrant? in try? await engine.admit(try request(policy, maxTokens: 100)) }
        let grant = try #require(await task.value)
        // The client went away before any usage was seen: unknown usage settles nothing but the parallel slot.
        await engine.settle(grant, usage: nil, costUSD: 0)
        let tokenKey = try #require(grant.reservations.first { $0.kind == .tokens }?.key)
        #expect(local.values([tokenKey])[0] == grant.reservations.first { $0.kind == .tokens }?.amount)
        #expect(local.values(["par:policy:pol"]) == [0])
    }

    @Test func parallelSlotsAndTokenLimitsRefuseWithRetryAfter() async throws {
        let (engine, policy, _) = try setUp()
        let first = try await engine.admit(try request(policy, maxTokens: 10))
        _ = try await engine.admit(try request(policy, maxTokens: 10))
        await #expect(throws: AdmissionRefusal.self) { try await engine.admit(try request(policy, maxTokens: 10)) }
        await engine.settle(first, usage: TokenUsage(input: 1, output: 1), costUSD: 0)
        do {
            _ = try await engine.admit(try request(policy, maxTokens: 5000))
            Issue.record("a request reserving more than the token limit must be refused")
        } catch let error as AdmissionRefusal {
            #expect(error.error.code == .rateLimitExceeded)
            #expect(error.error.retryAfterSeconds != nil)
            #expect(error.headers.contains { $0.0 == "x-ratelimit-limit-tokens" && $0.1 == "1000" })
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
