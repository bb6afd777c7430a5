import NIOConcurrencyHelpers

/// Counters in this process's memory, for `scope: Pod` limits. Expired counters are dropped lazily.
public final class LocalCounterStore: CounterStore {
    struct Entry {
        var value: Int64
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let clock: @Sendable () -> ContinuousClock.Instant

    public init(clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.clock = clock
    }

    public func charge(_ charges: [CounterCharge]) -> ChargeResult {
        let now = clock()
        return entries.withLockedValue { entries in
            func current(_ key: String) -> Int64 {
                guard let entry = entries[key], entry.expires > now else { return 0 }
                return entry.value
            }
            for (index, charge) in charges.enumerated() {
                let value = current(charge.key)
                if value + charge.amount > charge.limit { return .refused(index: index, current: value) }
            }
            var values: [Int64] = []
            for charge in charges {
                let value = current(charge.key) + charge.amount
                entries[charge.key] = Entry(value: value, expires: now + .seconds(charge.ttlSeconds))
                values.append(value)
            }
            if entries.count > 100_000 { entries = entries.filter { $0.value.expires > now } }
            return .admitted(values: values)
        }
    }

    public func adjust(_ adjustments: [(key: String, delta: Int64, ttlSeconds: Int)]) {
        let now = clock()
        entries.withLockedValue { entries in
            for adjustment in adjustments {
                let live = entries[adjustment.key].flatMap { $0.expires > now ? $0.value : nil } ?? 0
                entries[adjustment.key] = Entry(value: live + adjustment.delta, expires: now + .seconds(adjustment.ttlSeconds))
            }
        }
    }

    public func values(_ keys: [String]) -> [Int64] {
        let now = clock()
        return entries.withLockedValue { entries in
            keys.map { key in entries[key].flatMap { $0.expires > now ? $0.value : nil } ?? 0 }
        }
    }
}
