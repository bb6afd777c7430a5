import LLMeshModel

/// Orders a route's backends for one request: the order in which they will be tried.
///
/// Backends with weight 0 are never used. Priority groups come in ascending order; inside a group, healthy backends
/// are ordered by the route's strategy, with a weighted random draw breaking ties (for `WeightedRandom` the draw is
/// the whole order: the first backend is picked with probability proportional to its weight, the next among the rest,
/// and so on). Ejected backends are left out, unless every backend of the route is ejected: then all are tried in
/// priority order ("panic mode"), because refusing all traffic is worse than trying a backend that may have recovered.
public struct BackendSelector: Sendable {
    public init() {}

    /// The order of candidates and whether it was built in panic mode.
    public struct Plan: Sendable {
        public var candidates: [ResolvedBackend]
        public var panic: Bool
    }

    public func plan(for route: ResolvedRoute, health: BackendHealth, random: () -> Double = { Double.random(in: 0..<1) }) -> Plan {
        let usable = route.backends.filter { $0.weight > 0 }
        let healthy = usable.filter { !health.isEjected($0.key) }
        guard !healthy.isEmpty else { return Plan(candidates: usable, panic: !usable.isEmpty) }
        let priorities = Set(healthy.map(\.priority)).sorted()
        var ordered: [ResolvedBackend] = []
        for priority in priorities {
            let group = healthy.filter { $0.priority == priority }
            ordered += order(group, strategy: route.spec.strategy, health: health, random: random)
        }
        return Plan(candidates: ordered, panic: false)
    }

    /// The first candidate, for callers that need just one.
    public func pick(from route: ResolvedRoute, health: BackendHealth = BackendHealth(), random: () -> Double = { Double.random(in: 0..<1) }) -> ResolvedBackend? {
        plan(for: route, health: health, random: random).candidates.first
    }

    private func order(_ group: [ResolvedBackend], strategy: SelectionStrategy, health: BackendHealth, random: () -> Double) -> [ResolvedBackend] {
        guard group.count > 1 else { return group }
        // Efraimidis–Spirakis: sorting by u^(1/w) descending is weighted sampling without replacement.
        let draws = group.map { backend -> (ResolvedBackend, Double) in
            (backend, weightedDrawKey(max(random(), Double.leastNonzeroMagnitude), 1 / Double(backend.weight)))
        }
        func metric(_ backend: ResolvedBackend) -> Double {
            switch strategy {
            case .weightedRandom: return 0
            case .leastLatency: return health.firstByteEWMA(backend.key) ?? 0
            case .leastInFlight: return Double(health.inFlight(backend.key))
            case .leastCost:
                guard let pricing = backend.provider.pricing(for: backend.upstreamModel) else { return .infinity }
                return pricing.inputPerMillion + pricing.outputPerMillion
            }
        }
        return draws.map { ($0.0, metric($0.0), $0.1) }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 > $1.2 }
            .map(\.0)
    }
}

/// `base` raised to `exponent`, for the weighted draw.
@inline(__always) func weightedDrawKey(_ base: Double, _ exponent: Double) -> Double {
    exp(log(base) * exponent)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ResolvedBackend {
    /// This backend's identity for health tracking.
    public var key: BackendKey { BackendKey(provider: providerName, model: upstreamModel) }
}
