import Foundation
import LLMeshCredentials
import LLMeshModel
import NIOConcurrencyHelpers
import NIOHTTP1

/// Whether the sidecar should receive traffic.
public final class Readiness: Sendable {
    private let listeners: Int
    private let state = NIOLockedValueBox((bound: 0, draining: false))

    /// - Parameter listeners: how many app listeners must be bound (the plain one, and the HTTPS one when enabled).
    public init(listeners: Int = 1) {
        self.listeners = listeners
    }

    /// One more app listener is bound.
    public func markListening() { state.withLockedValue { $0.bound += 1 } }
    public func markDraining() { state.withLockedValue { $0.draining = true } }

    /// Ready once every app listener is bound, until shutdown starts.
    public var isReady: Bool { state.withLockedValue { $0.bound >= listeners && !$0.draining } }
}

/// The admin listener: `/healthz`, `/readyz`, `/metrics` and `/config_dump`.
public struct AdminHandler: HTTPRequestHandler {
    let store: PolicyStore
    let credentials: CredentialStore
    let metrics: SidecarMetrics
    let readiness: Readiness
    let health: BackendHealth
    let policyEngine: PolicyEngine?
    let awsCredentials: AWSCredentialRegistry?

    public init(store: PolicyStore, credentials: CredentialStore, metrics: SidecarMetrics, readiness: Readiness, health: BackendHealth, policyEngine: PolicyEngine? = nil, awsCredentials: AWSCredentialRegistry? = nil) {
        self.awsCredentials = awsCredentials
        self.store = store
        self.credentials = credentials
        self.metrics = metrics
        self.readiness = readiness
        self.health = health
        self.policyEngine = policyEngine
    }

    public func handle(_ request: ServerRequest, response: ResponseWriter) async {
        let path = request.head.uri.prefix { $0 != "?" }
        var headers = HTTPHeaders()
        let status: Int
        let body: [UInt8]
        switch (request.head.method, path) {
        case (.GET, "/healthz"):
            (status, body) = (200, Array("ok\n".utf8))
            headers.add(name: "content-type", value: "text/plain")
        case (.GET, "/readyz"):
            let ready = readiness.isReady && store.current != nil
            (status, body) = (ready ? 200 : 503, Array((ready ? "ready\n" : "not ready\n").utf8))
            headers.add(name: "content-type", value: "text/plain")
        case (.GET, "/metrics"):
            metrics.publish(health: health.snapshot())
            metrics.publish(spend: await currentSpend())
            (status, body) = (200, metrics.exposition())
            headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
        case (.GET, "/config_dump"):
            (status, body) = (200, configDump(spend: await currentSpend()))
            headers.add(name: "content-type", value: "application/json")
        default:
            (status, body) = (404, Array("not found: GET /healthz, /readyz, /metrics or /config_dump\n".utf8))
            headers.add(name: "content-type", value: "text/plain")
        }
        try? await response.respond(status: status, headers: headers, body: body)
    }

    /// The effective policy as JSON. Resources only ever hold key *sources* (paths, variable names, Secret names),
    /// never key values; the dump adds whether each source currently yields a key.
    func currentSpend() async -> [SpendRecord] {
        guard let policyEngine, let policy = store.current else { return [] }
        return await policyEngine.spend(policy, now: Int64(Date().timeIntervalSince1970))
    }

    func configDump(spend: [SpendRecord]) -> [UInt8] {
        guard let policy = store.current else { return Array(#"{"loaded":false}"#.utf8) }
        struct ProviderStatus: Encodable {
            var name: String
            var type: String
            var endpoint: String?
            var credentialSource: String?
            var credentialAvailable: Bool?
            /// Where a Bedrock provider's AWS credentials come from and when they expire; never a key or token.
            var aws: AWSCredentialStatus?
        }
        struct Dump: Encodable {
            var loaded = true
            var version: Int
            var source: String
            var models: [String]
            var providerStatus: [ProviderStatus]
            var backendHealth: [BackendHealth.Snapshot]
            var workload: WorkloadIdentity?
            var spend: [SpendRecord]
            var resources: PolicyBundle
        }
        let status = policy.bundle.providers.map { provider -> ProviderStatus in
            let source = provider.spec.auth?.apiKey
            return ProviderStatus(
                name: provider.metadata.name,
                type: provider.spec.type.rawValue,
                endpoint: provider.spec.effectiveEndpoint,
                credentialSource: source.map(Self.describe),
                credentialAvailable: source.map(credentials.isAvailable),
                aws: provider.spec.type == .bedrock && source == nil ? awsCredentials?.status(for: provider.spec.auth?.aws) : nil
            )
        }
        let dump = Dump(version: policy.version, source: policy.source, models: policy.exposedModels, providerStatus: status, backendHealth: health.snapshot(), workload: policyEngine?.workload, spend: spend, resources: policy.bundle)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? Array(encoder.encode(dump))) ?? Array(#"{"error":"config dump could not be encoded"}"#.utf8)
    }

    static func describe(_ source: APIKeySource) -> String {
        switch source {
        case .file(let path): return "file:\(path)"
        case .environment(let name): return "env:\(name)"
        case .secret(let reference): return "secret:\(reference.name)/\(reference.key)"
        }
    }
}
