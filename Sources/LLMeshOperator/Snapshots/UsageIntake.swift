import Foundation
import LLMeshKube
import LLMeshModel
import Logging

/// A usage batch as sidecars send it to `POST /v1/usage`.
public struct UsageReport: Sendable, Hashable, Codable {
    /// One key's or policy's use of one model.
    public struct Delta: Sendable, Hashable, Codable {
        public var kind: String
        public var name: String
        public var model: String
        public var requests: Int
        public var inputTokens: Int
        public var outputTokens: Int
        public var cachedInputTokens: Int
        public var costUSD: Double
    }

    public var sidecar: String
    public var sequence: Int
    public var namespace: String
    public var deltas: [Delta]
}

/// Takes usage batches from sidecars and, on the leader, adds them to `status.spend` of the VirtualKeys and
/// LLMPolicies they name, at most once per flush interval.
///
/// Each batch is applied exactly once: the status of every resource records, per sidecar, the last sequence it applied
/// (`status.usageSequences`), in the same write as the spend, so a retried batch and an operator restart between the
/// write and the answer both leave the sum right. A sidecar's batch is answered only after it is written.
public actor UsageIntake {
    private struct Pending {
        var report: UsageReport
        var continuation: CheckedContinuation<Bool, Never>
    }

    private let client: KubeClient
    private let isLeader: @Sendable () -> Bool
    private let logger: Logger
    private var pending: [Pending] = []
    /// Batches applied, for metrics.
    public private(set) var appliedBatches = 0
    /// Usage writes refused with a conflict and retried.
    public private(set) var conflicts = 0
    /// Oldest batch age at its write, seconds, for metrics.
    public private(set) var lastLagSeconds = 0.0
    private var oldestPending: ContinuousClock.Instant?

    public init(client: KubeClient, isLeader: @escaping @Sendable () -> Bool, logger: Logger) {
        self.client = client
        self.isLeader = isLeader
        self.logger = logger
    }

    /// Queues `report` for the next flush; `true` once written, `false` when it could not be (the sidecar retries).
    public func submit(_ report: UsageReport) async -> Bool {
        if oldestPending == nil { oldestPending = .now }
        return await withCheckedContinuation { pending.append(Pending(report: report, continuation: $0)) }
    }

    /// Writes everything pending, grouped by resource; runs on the leader's flush tick.
    public func flush(now: Date = Date()) async {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        if let oldestPending { lastLagSeconds = Double(oldestPending.duration(to: .now).components.seconds) }
        oldestPending = nil
        guard isLeader() else {
            for item in batch { item.continuation.resume(returning: false) }
            return
        }
        var targets: [ObjectKey: (type: ResourceType, items: [(sidecar: String, sequence: Int, cost: Double)])] = [:]
        for item in batch {
            for delta in item.report.deltas {
                let type: ResourceType
                switch delta.kind {
                case "VirtualKey": type = .virtualKeys
                case "LLMPolicy": type = .llmPolicies
                default: continue
                }
                let key = ObjectKey(namespace: item.report.namespace, name: delta.name)
                var entry = targets[key] ?? (type, [])
                entry.items.append((item.report.sidecar, item.report.sequence, delta.costUSD))
                targets[key] = entry
            }
        }
        var failedSidecars: Set<String> = []
        for (key, target) in targets {
            do {
                try await apply(target.items, to: key, type: target.type, now: now)
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            } catch {
                logger.warning("could not write usage; sidecars will retry", metadata: ["resource": "\(target.type.kind)/\(key)", "error": "\(error)"])
                for item in target.items { failedSidecars.insert(item.sidecar) }
            }
        }
        for item in batch {
            let ok = !failedSidecars.contains(item.report.sidecar)
            if ok { appliedBatches += 1 }
            item.continuation.resume(returning: ok)
        }
    }

    /// Adds the cost of every batch not applied yet to one resource's status, in one optimistic write.
    private func apply(_ items: [(sidecar: String, sequence: Int, cost: Double)], to key: ObjectKey, type: ResourceType, now: Date) async throws {
        for attempt in 0..<5 {
            let object = try await client.get(type, key)
            var status = object.status?.objectValue ?? [:]
            var ledger = status["usageSequences"]?.stringMap ?? [:]
            let period = BudgetPeriods.period(of: object, now: now)
            var spend = status["spend"]?.doubleValue ?? 0
            if let start = period?.start, status["periodStart"]?.stringValue != start {
                spend = 0
                status["periodStart"] = .string(start)
            }
            var changed = false
            for item in items.sorted(by: { $0.sequence < $1.sequence }) {
                let applied = ledger[item.sidecar].flatMap { Int($0.split(separator: "@").first ?? "") } ?? 0
                guard item.sequence > applied else { continue }
                spend += item.cost
                ledger[item.sidecar] = "\(item.sequence)@\(Int(now.timeIntervalSince1970))"
                changed = true
            }
            guard changed else { return }
            if ledger.count > 500 {
                let cutoff = Int(now.timeIntervalSince1970) - 86_400
                ledger = ledger.filter { Int($0.value.split(separator: "@").last ?? "") ?? 0 >= cutoff }
            }
            status["spend"] = .number((spend * 1_000_000).rounded() / 1_000_000)
            status["usageSequences"] = .object(ledger.mapValues { .string($0) })
            status["lastUsed"] = .string(KubeTime.format(now))
            if let budget = period?.usd { status["budgetExhausted"] = .bool(spend >= budget) }
            var updated = object.json
            updated["status"] = .object(status)
            do {
                _ = try await client.updateStatus(type, updated)
                return
            } catch let error as KubeAPIError where error.isConflict && attempt < 4 {
                conflicts += 1
            }
        }
    }
}

/// Budget periods of a resource's `spec.budget`, in UTC.
enum BudgetPeriods {
    /// The budget in USD and the start of its current period, or `nil` when the resource has no budget.
    static func period(of object: KubeObject, now: Date) -> (usd: Double, start: String)? {
        guard let budget = object.spec?["budget"], let usd = budget["usd"]?.doubleValue else { return nil }
        let period = budget["period"]?.stringValue ?? "Monthly"
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let start: Date?
        switch period {
        case "Daily": start = calendar.startOfDay(for: now)
        case "Weekly":
            var iso = Calendar(identifier: .iso8601)
            iso.timeZone = calendar.timeZone
            start = iso.dateInterval(of: .weekOfYear, for: now)?.start
        default: start = calendar.dateInterval(of: .month, for: now)?.start
        }
        return (usd, KubeTime.format(start ?? now))
    }
}
