/// Counters in a Redis-compatible server (Redis, Valkey) shared by every sidecar, for `scope: Global` limits.
///
/// Each operation is one Lua script, which the server runs atomically: the check of every charge and the increments
/// happen with no other client in between, so a limit shared by many sidecars admits exactly as many as it allows.
public final class RedisCounterStore: CounterStore {
    let client: RESPClient
    /// Prefix of every key this store writes.
    let prefix: String

    public init(client: RESPClient, prefix: String = "llmesh:") {
        self.client = client
        self.prefix = prefix
    }

    static let chargeScript = """
        for i = 1, #KEYS do
          local current = tonumber(redis.call('GET', KEYS[i]) or '0')
          if current + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then
            return {i, current}
          end
        end
        local values = {0}
        for i = 1, #KEYS do
          values[i + 1] = redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
          redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
        end
        return values
        """

    static let adjustScript = """
        for i = 1, #KEYS do
          redis.call('INCRBY', KEYS[i], ARGV[2 * i - 1])
          redis.call('EXPIRE', KEYS[i], ARGV[2 * i])
        end
        return #KEYS
        """

    public func charge(_ charges: [CounterCharge]) async throws -> ChargeResult {
        guard !charges.isEmpty else { return .admitted(values: []) }
        var parts = ["EVAL", Self.chargeScript, String(charges.count)]
        parts += charges.map { prefix + $0.key }
        for charge in charges { parts += [String(charge.amount), String(charge.limit), String(charge.ttlSeconds)] }
        let reply = try await client.send(parts)
        guard case .array(let items?) = reply, let first = items.first?.int else {
            throw RESPClientError(description: "unexpected reply to the charge script: \(reply)")
        }
        if first == 0 { return .admitted(values: items.dropFirst().map { $0.int ?? 0 }) }
        return .refused(index: Int(first) - 1, current: items.count > 1 ? items[1].int ?? 0 : 0)
    }

    public func adjust(_ adjustments: [(key: String, delta: Int64, ttlSeconds: Int)]) async throws {
        guard !adjustments.isEmpty else { return }
        var parts = ["EVAL", Self.adjustScript, String(adjustments.count)]
        parts += adjustments.map { prefix + $0.key }
        for adjustment in adjustments { parts += [String(adjustment.delta), String(adjustment.ttlSeconds)] }
        let reply = try await client.send(parts)
        if case .error(let message) = reply { throw RESPClientError(description: message) }
    }

    public func values(_ keys: [String]) async throws -> [Int64] {
        guard !keys.isEmpty else { return [] }
        let reply = try await client.send(["MGET"] + keys.map { prefix + $0 })
        guard case .array(let items?) = reply else { throw RESPClientError(description: "unexpected reply to MGET: \(reply)") }
        return items.map { $0.int ?? 0 }
    }
}
