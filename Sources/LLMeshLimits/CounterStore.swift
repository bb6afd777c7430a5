/// One counter a request wants to add to, and the most it may hold.
public struct CounterCharge: Sendable, Hashable {
    /// Storage key, unique per limit, subject and window (for example `rpm:key:team-a:29498712`).
    public var key: String
    /// How much this request adds (1 for a request, reserved tokens, reserved micro-dollars, 1 for a parallel slot).
    public var amount: Int64
    /// The most the counter may hold after adding; a charge that would pass it is refused.
    public var limit: Int64
    /// How long the counter lives after its last change, in seconds (the window plus a margin).
    public var ttlSeconds: Int

    public init(key: String, amount: Int64, limit: Int64, ttlSeconds: Int) {
        self.key = key
        self.amount = amount
        self.limit = limit
        self.ttlSeconds = ttlSeconds
    }
}

/// The answer to a set of charges: all applied, or none and the first that did not fit.
public enum ChargeResult: Sendable, Equatable {
    /// Every counter was increased; `values` are the new totals in charge order.
    case admitted(values: [Int64])
    /// Nothing was changed: charge `index` would have taken its counter from `current` past its limit.
    case refused(index: Int, current: Int64)
}

/// Counters that admit a request only if every one of its charges fits, atomically.
///
/// Two implementations: ``LocalCounterStore`` (this sidecar's memory, for `scope: Pod`) and ``RedisCounterStore``
/// (a Redis-compatible server shared by every sidecar, for `scope: Global`). Checking all charges and applying them
/// as one step is what keeps limits exact under concurrency: no request takes a request slot and then fails on
/// tokens, leaving the slot used.
public protocol CounterStore: Sendable {
    /// Applies every charge if all fit, else none.
    func charge(_ charges: [CounterCharge]) async throws -> ChargeResult
    /// Adds `delta` (possibly negative) to each key: settling a reservation, releasing a parallel slot.
    func adjust(_ adjustments: [(key: String, delta: Int64, ttlSeconds: Int)]) async throws
    /// Current values (0 for missing keys).
    func values(_ keys: [String]) async throws -> [Int64]
}
