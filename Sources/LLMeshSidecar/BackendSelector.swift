/// Picks the backend for one request: the best priority group, then a weighted random choice inside it.
public struct BackendSelector: Sendable {
    public init() {}

    /// Picks a backend of `route`, using `random` to draw in `0..<totalWeight`.
    public func pick(from route: ResolvedRoute, random: (Int) -> Int = { Int.random(in: 0..<$0) }) -> ResolvedBackend? {
        guard let best = route.backends.first(where: { $0.weight > 0 })?.priority else { return nil }
        let group = route.backends.filter { $0.priority == best && $0.weight > 0 }
        if group.count == 1 { return group[0] }
        let total = group.reduce(0) { $0 + $1.weight }
        var draw = random(total)
        for backend in group {
            if draw < backend.weight { return backend }
            draw -= backend.weight
        }
        return group.last
    }
}
