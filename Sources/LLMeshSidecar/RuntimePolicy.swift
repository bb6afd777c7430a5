import Foundation
import LLMeshModel
import LLMeshProviders

/// One backend of a route, with its provider resolved.
public struct ResolvedBackend: Sendable {
    public var providerName: String
    public var provider: LLMProviderSpec
    /// The model name sent upstream.
    public var upstreamModel: String
    public var weight: Int
    public var priority: Int
}

/// A route ready for lookups: its backends resolved and ordered by priority.
public struct ResolvedRoute: Sendable {
    public var name: String
    public var spec: LLMRouteSpec
    public var backends: [ResolvedBackend]
}

/// An `LLMPolicy` ready to enforce: its guardrails compiled once.
public struct CompiledPolicy: Sendable {
    public var name: String
    public var spec: LLMPolicySpec
    public var scanner: GuardrailScanner?
}

/// The policy a sidecar enforces, compiled from a validated ``PolicyBundle`` for O(1) lookups.
///
/// A `RuntimePolicy` is immutable. A reload builds a new one and swaps it in whole, so a request keeps the
/// policy it started with and never sees half of a change.
public struct RuntimePolicy: Sendable {
    public let bundle: PolicyBundle
    /// Increases by one with every applied change.
    public let version: Int
    /// Where the policy came from (a file path).
    public let source: String
    /// Routes by model name or alias; several when header matches tell them apart, most specific first.
    private let routesByModel: [String: [ResolvedRoute]]
    /// Every model name and alias, in route order.
    public let exposedModels: [String]
    /// Virtual keys by the SHA-256 (hex) of the key.
    public let keysByHash: [String: ResolvedVirtualKey]
    /// Policies in file order.
    public let policies: [CompiledPolicy]
    /// Budgets the operator reports spent across the fleet (`VirtualKey/NAME`, `LLMPolicy/NAME`).
    public var exhaustedBudgets: Set<String> = []

    /// Compiles `bundle`, or throws the problems that keep a sidecar from serving it.
    public init(bundle: PolicyBundle, version: Int, source: String, standalone: Bool) throws(ConfigValidationError) {
        var problems: [ConfigProblem] = []
        let providers = Dictionary(bundle.providers.map { ($0.metadata.name, $0.spec) }, uniquingKeysWith: { first, _ in first })
        if standalone {
            for provider in bundle.providers {
                if case .secret = provider.spec.auth?.apiKey {
                    problems.append(ConfigProblem(resource: provider.reference, fieldPath: "spec.auth.apiKey.secretRef", message: "needs the operator; a standalone sidecar reads keys from a file or env"))
                }
            }
        }
        var routes: [String: [ResolvedRoute]] = [:]
        var exposed: [String] = []
        for route in bundle.routes {
            let backends = route.spec.backends.compactMap { backend -> ResolvedBackend? in
                guard let provider = providers[backend.provider] else { return nil }
                return ResolvedBackend(
                    providerName: backend.provider,
                    provider: provider,
                    upstreamModel: backend.model ?? route.spec.match.model,
                    weight: backend.weight,
                    priority: backend.priority
                )
            }.sorted { $0.priority < $1.priority }
            let resolved = ResolvedRoute(name: route.metadata.name, spec: route.spec, backends: backends)
            for name in route.spec.exposedModelNames {
                if routes[name] == nil { exposed.append(name) }
                routes[name, default: []].append(resolved)
            }
        }
        var keys: [String: ResolvedVirtualKey] = [:]
        for key in bundle.virtualKeys {
            let hash: String?
            if let keyHash = key.spec.keyHash {
                hash = String(keyHash.dropFirst("sha256:".count))
            } else if let path = key.spec.keyFile {
                if let data = FileManager.default.contents(atPath: path), case let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                    hash = KeyHash.sha256Hex(text)
                } else {
                    problems.append(ConfigProblem(resource: key.reference, fieldPath: "spec.keyFile", message: "cannot read a key from \(path)"))
                    hash = nil
                }
            } else {
                if standalone {
                    problems.append(ConfigProblem(resource: key.reference, fieldPath: "spec.secretRef", message: "needs the operator; a standalone sidecar takes keyHash or keyFile"))
                }
                hash = nil
            }
            let expiry = key.spec.expiresAt.flatMap(KeyHash.unixSeconds(rfc3339:))
            if let hash { keys[hash] = ResolvedVirtualKey(name: key.metadata.name, spec: key.spec, expiresAt: expiry) }
        }
        guard problems.isEmpty else { throw ConfigValidationError(problems: problems) }
        self.keysByHash = keys
        self.policies = bundle.policies.map { CompiledPolicy(name: $0.metadata.name, spec: $0.spec, scanner: $0.spec.guardrails.map(GuardrailScanner.init)) }
        self.bundle = bundle
        self.version = version
        self.source = source
        // Precedence: more header conditions first; equal ones keep file order.
        self.routesByModel = routes.mapValues { candidates in
            candidates.enumerated().sorted { lhs, rhs in
                let left = lhs.element.spec.match.headers.count, right = rhs.element.spec.match.headers.count
                return left != right ? left > right : lhs.offset < rhs.offset
            }.map(\.element)
        }
        self.exposedModels = exposed
    }

    /// The route serving `model` (a name or an alias) for a request with `header` values.
    ///
    /// Among routes claiming the model, the first whose header conditions all hold wins; routes with more
    /// conditions are considered first, so a `x-tier: premium` route overrides the plain one for premium callers.
    public func route(for model: String, header: (String) -> String? = { _ in nil }) -> ResolvedRoute? {
        guard let candidates = routesByModel[model] else { return nil }
        return candidates.first { route in
            route.spec.match.headers.allSatisfy { header($0.key) == $0.value }
        }
    }
}

extension ProviderType {
    /// Whether this provider can answer a request in `dialect` without translation.
    func speaks(_ dialect: APIDialect) -> Bool {
        switch self {
        case .mock: return dialect != .bedrock
        case .openAI, .openAICompatible: return dialect == .openAI
        case .anthropic: return dialect == .anthropic
        case .bedrock: return dialect == .bedrock
        }
    }

    /// Whether the provider understands `stream_options.include_usage`.
    var reportsStreamUsageOnRequest: Bool {
        switch self {
        case .openAI, .openAICompatible, .mock: return true
        case .anthropic, .bedrock: return false
        }
    }
}
