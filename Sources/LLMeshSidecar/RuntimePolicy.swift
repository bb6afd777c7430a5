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
    private let routesByModel: [String: ResolvedRoute]
    /// Every model name and alias, in route order.
    public let exposedModels: [String]

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
        var routes: [String: ResolvedRoute] = [:]
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
            for name in route.spec.exposedModelNames where routes[name] == nil {
                routes[name] = resolved
                exposed.append(name)
            }
        }
        guard problems.isEmpty else { throw ConfigValidationError(problems: problems) }
        self.bundle = bundle
        self.version = version
        self.source = source
        self.routesByModel = routes
        self.exposedModels = exposed
    }

    /// The route serving `model` (a name or an alias).
    public func route(for model: String) -> ResolvedRoute? { routesByModel[model] }
}

extension ProviderType {
    /// Whether this provider can answer a request in `dialect` without translation.
    func speaks(_ dialect: APIDialect) -> Bool {
        switch self {
        case .mock: return true
        case .openAI, .openAICompatible: return dialect == .openAI
        case .anthropic: return dialect == .anthropic
        }
    }

    /// Whether the provider understands `stream_options.include_usage`.
    var reportsStreamUsageOnRequest: Bool {
        switch self {
        case .openAI, .openAICompatible, .mock: return true
        case .anthropic: return false
        }
    }
}
