import Foundation
import Logging
import NIOConcurrencyHelpers

/// Timing of leader election, with client-go's defaults (15 s / 10 s / 2 s).
public struct LeaderElectionTiming: Sendable, Hashable {
    /// How long others wait after the last observed renewal before taking the lease.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leadership.
    public var renewDeadline: Duration
    /// Wait between attempts.
    public var retryPeriod: Duration

    public init(leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// client-go's rule: leaseDuration > renewDeadline > 1.2 × retryPeriod.
    public var problem: String? {
        if leaseDuration <= renewDeadline { return "lease duration must be longer than the renew deadline" }
        if renewDeadline <= retryPeriod * 1.2 { return "renew deadline must be longer than 1.2 × the retry period" }
        return nil
    }
}

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: only local times and observed changes
/// of the record count, so clocks of the replicas need not agree. There is no fencing: callers check ``isLeader``
/// right before each write, and leadership ends at once when renewal fails past the deadline.
public final class LeaderElector: Sendable {
    public let leaseName: String
    public let namespace: String
    public let identity: String
    public let timing: LeaderElectionTiming
    private let client: KubeClient
    private let logger: Logger
    private let leading = NIOLockedValueBox(false)

    public init(client: KubeClient, leaseName: String, namespace: String, identity: String, timing: LeaderElectionTiming = .init(), logger: Logger) {
        self.client = client
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.timing = timing
        self.logger = logger
    }

    /// Whether this replica holds the lease now.
    public var isLeader: Bool { leading.withLockedValue { $0 } }

    private struct Observation: Sendable {
        var holder: String
        var renewTime: String
        var seenAt: ContinuousClock.Instant
    }

    /// Campaigns and renews until cancelled; `onChange(true)` when leadership starts, `onChange(false)` when it ends.
    /// On cancellation a held lease is released so another replica takes over at once.
    public func run(onChange: @Sendable (Bool) async -> Void) async {
        var observation: Observation?
        var lastRenewal: ContinuousClock.Instant?
        while !Task.isCancelled {
            // An attempt never runs past the point where a leader must give up: a hung API server must not keep a
            // replica believing it leads.
            var budget = timing.leaseDuration
            if isLeader, let lastRenewal { budget = max(.milliseconds(50), timing.renewDeadline - lastRenewal.duration(to: .now)) }
            let previous = observation
            let outcome = await Self.withDeadline(budget) { [self] in
                var local = previous
                let succeeded = await tryAcquireOrRenew(&local)
                return (succeeded, local)
            }
            let succeeded = outcome?.0 ?? false
            if let outcome { observation = outcome.1 }
            let now = ContinuousClock.now
            if succeeded {
                lastRenewal = now
                if !isLeader {
                    leading.withLockedValue { $0 = true }
                    logger.info("became leader", metadata: ["lease": "\(namespace)/\(leaseName)", "identity": "\(identity)"])
                    await onChange(true)
                }
            } else if isLeader, let lastRenewal, lastRenewal.duration(to: now) >= timing.renewDeadline {
                leading.withLockedValue { $0 = false }
                logger.warning("lost leadership: could not renew the lease within the deadline", metadata: ["lease": "\(namespace)/\(leaseName)"])
                await onChange(false)
            }
            let jitter = isLeader ? 1.0 : Double.random(in: 1.0...1.2)
            do { try await Task.sleep(for: timing.retryPeriod * jitter) } catch { break }
        }
        if isLeader {
            leading.withLockedValue { $0 = false }
            await onChange(false)
            // This task is cancelled, and a cancelled task's API calls fail at once: release from a fresh task, with
            // a bound so a hung API server cannot hold shutdown.
            await Task { [self] in _ = await Self.withDeadline(timing.renewDeadline) { await self.release() } }.value
        }
    }

    /// The result of `operation`, or `nil` when it did not finish within `limit` (it is then cancelled).
    static func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// One attempt: create the lease, renew it, or take it over when its holder stopped renewing.
    private func tryAcquireOrRenew(_ observation: inout Observation?) async -> Bool {
        let now = ContinuousClock.now
        let key = ObjectKey(namespace: namespace, name: leaseName)
        let nowText = MicroTime.now()
        // Leases count whole seconds: round up, so that others never see a lease shorter than this elector keeps it.
        let seconds = max(1, Int(timing.leaseDuration.components.seconds) + (timing.leaseDuration.components.attoseconds > 0 ? 1 : 0))
        do {
            let lease: KubeObject
            do {
                lease = try await client.get(.leases, key)
            } catch let error as KubeAPIError where error.isNotFound {
                let fresh: JSONValue = [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": .string(leaseName), "namespace": .string(namespace)],
                    "spec": [
                        "holderIdentity": .string(identity), "leaseDurationSeconds": .number(Double(seconds)),
                        "acquireTime": .string(nowText), "renewTime": .string(nowText), "leaseTransitions": 0,
                    ],
                ]
                _ = try await client.create(.leases, fresh, namespace: namespace)
                observation = Observation(holder: identity, renewTime: nowText, seenAt: now)
                return true
            }
            let spec = lease.spec ?? [:]
            let holder = spec["holderIdentity"]?.stringValue ?? ""
            let renewTime = spec["renewTime"]?.stringValue ?? ""
            if observation?.holder != holder || observation?.renewTime != renewTime {
                observation = Observation(holder: holder, renewTime: renewTime, seenAt: now)
            }
            let leaseSeconds = spec["leaseDurationSeconds"]?.intValue ?? seconds
            let held = !holder.isEmpty && holder != identity
            if held, let seenAt = observation?.seenAt, seenAt.duration(to: now) < .seconds(leaseSeconds) {
                return false
            }
            var updated = lease.json
            var newSpec = spec
            newSpec["holderIdentity"] = .string(identity)
            newSpec["leaseDurationSeconds"] = .number(Double(seconds))
            newSpec["renewTime"] = .string(nowText)
            if holder != identity {
                newSpec["acquireTime"] = .string(nowText)
                newSpec["leaseTransitions"] = .number(Double((spec["leaseTransitions"]?.intValue ?? 0) + 1))
            }
            updated["spec"] = newSpec
            _ = try await client.update(.leases, updated)
            observation = Observation(holder: identity, renewTime: nowText, seenAt: now)
            return true
        } catch {
            logger.debug("lease attempt failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives the lease up (empty holder, 1 s duration), as client-go's ReleaseOnCancel does.
    private func release() async {
        let key = ObjectKey(namespace: namespace, name: leaseName)
        guard var lease = try? await client.get(.leases, key).json, lease[path: "spec.holderIdentity"]?.stringValue == identity else { return }
        var spec = lease["spec"] ?? [:]
        spec["holderIdentity"] = .string("")
        spec["leaseDurationSeconds"] = 1
        spec["renewTime"] = .string(MicroTime.now())
        lease["spec"] = spec
        _ = try? await client.update(.leases, lease)
        logger.info("released the lease", metadata: ["lease": "\(namespace)/\(leaseName)"])
    }
}

/// Kubernetes `MicroTime`: RFC 3339 in UTC with six fractional digits.
enum MicroTime {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = Date(timeIntervalSince1970: seconds).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
        let trimmed = base.hasSuffix("Z") ? String(base.dropLast()) : base
        return trimmed + "." + String(micros).leftPadded(to: 6) + "Z"
    }
}
