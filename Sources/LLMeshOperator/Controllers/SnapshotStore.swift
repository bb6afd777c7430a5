import Crypto
import Foundation
import LLMeshModel

/// The latest policy snapshot of every namespace, with waiting for a newer one (the long-poll of the snapshot service).
public actor SnapshotStore {
    private var snapshots: [String: PolicySnapshot] = [:]
    private struct Waiter {
        var after: Int
        var knownHash: String?
        var continuation: CheckedContinuation<Delivery?, Never>
        var id: UInt64

        /// Whether `snapshot` is news to this waiter: a higher version, or different content than it holds.
        func wants(_ snapshot: PolicySnapshot) -> Bool { SnapshotStore.isNews(snapshot, after: after, knownHash: knownHash) }
    }

    private var waiters: [String: [Waiter]] = [:]
    /// The JSON of each namespace's current snapshot, made once per version however many sidecars fetch it.
    private var encoded: [String: (version: Int, bytes: [UInt8])] = [:]
    private var nextWaiterID: UInt64 = 0
    /// Long-polls between their start and their answer. A waiter parks only while its id is here, so a timeout or a
    /// cancellation that comes before the park is not lost.
    private var openWaits: Set<UInt64> = []

    public init() {}

    /// The latest snapshot of `namespace`.
    public func snapshot(of namespace: String) -> PolicySnapshot? { snapshots[namespace] }

    /// Namespaces with a snapshot.
    public var namespaces: [String] { Array(snapshots.keys) }

    /// Stores the compiled content; the version grows only when the content hash changes, and never goes below
    /// `sourceVersion` (the newest API resourceVersion seen for the namespace), so replicas that see the same
    /// changes hand out comparable versions.
    @discardableResult
    public func update(namespace: String, bundle: PolicyBundle, credentials: [String: String], exhaustedBudgets: [String] = [], sourceVersion: Int) -> PolicySnapshot {
        let hash = Self.contentHash(bundle: bundle, credentials: credentials, exhaustedBudgets: exhaustedBudgets)
        if let current = snapshots[namespace], current.contentHash == hash { return current }
        let previous = snapshots[namespace]?.version ?? 0
        let snapshot = PolicySnapshot(namespace: namespace, version: max(sourceVersion, previous + 1), contentHash: hash, bundle: bundle, credentials: credentials, exhaustedBudgets: exhaustedBudgets)
        snapshots[namespace] = snapshot
        let ready = waiters[namespace]?.filter { $0.wants(snapshot) } ?? []
        waiters[namespace]?.removeAll { $0.wants(snapshot) }
        let now = ContinuousClock.now
        for waiter in ready { waiter.continuation.resume(returning: Delivery(snapshot: snapshot, changedAt: now)) }
        return snapshot
    }

    /// A snapshot newer than `after` (or, when the caller names the content hash it holds, one with other content),
    /// at once when there is one, else when one arrives or `timeout` passes (`nil`).
    ///
    /// The hash makes the exchange safe across operator restarts and replicas, whose version numbers for the same
    /// content may differ: a sidecar never waits on content it does not have.
    public func waitForNewer(namespace: String, after: Int, knownHash: String? = nil, timeout: Duration) async -> PolicySnapshot? {
        await waitForDelivery(namespace: namespace, after: after, knownHash: knownHash, timeout: timeout)?.snapshot
    }

    /// A snapshot handed to a waiting long-poll; `changedAt` is set when the request was held and woken by the change
    /// (the start of its push latency).
    public struct Delivery: Sendable {
        public var snapshot: PolicySnapshot
        public var changedAt: ContinuousClock.Instant?
    }

    /// Like ``waitForNewer(namespace:after:knownHash:timeout:)``, telling whether the request was held for the change.
    public func waitForDelivery(namespace: String, after: Int, knownHash: String? = nil, timeout: Duration) async -> Delivery? {
        if let current = snapshots[namespace], Self.isNews(current, after: after, knownHash: knownHash) { return Delivery(snapshot: current, changedAt: nil) }
        let id = nextWaiterID
        nextWaiterID += 1
        openWaits.insert(id)
        defer { openWaits.remove(id) }
        return await withTaskGroup(of: Delivery?.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await self.park(namespace: namespace, after: after, knownHash: knownHash, id: id)
                } onCancel: {
                    Task { await self.cancelWaiter(namespace: namespace, id: id) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.cancelWaiter(namespace: namespace, id: id)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func park(namespace: String, after: Int, knownHash: String?, id: UInt64) async -> Delivery? {
        await withCheckedContinuation { continuation in
            let waiter = Waiter(after: after, knownHash: knownHash, continuation: continuation, id: id)
            if !openWaits.contains(id) {
                continuation.resume(returning: nil)
            } else if let current = snapshots[namespace], waiter.wants(current) {
                continuation.resume(returning: Delivery(snapshot: current, changedAt: nil))
            } else {
                waiters[namespace, default: []].append(waiter)
            }
        }
    }

    private func cancelWaiter(namespace: String, id: UInt64) {
        openWaits.remove(id)
        guard let index = waiters[namespace]?.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters[namespace]?.remove(at: index)
        waiter?.continuation.resume(returning: nil)
    }

    static func isNews(_ snapshot: PolicySnapshot, after: Int, knownHash: String?) -> Bool {
        snapshot.version > after || (knownHash != nil && knownHash != snapshot.contentHash)
    }

    /// The snapshot as JSON, encoded once per version and shared by every answer.
    public func json(of snapshot: PolicySnapshot) -> [UInt8] {
        if let cached = encoded[snapshot.namespace], cached.version == snapshot.version, snapshots[snapshot.namespace]?.contentHash == snapshot.contentHash {
            return cached.bytes
        }
        let bytes = (try? JSONEncoder().encode(snapshot)).map(Array.init) ?? []
        if snapshots[snapshot.namespace]?.version == snapshot.version { encoded[snapshot.namespace] = (snapshot.version, bytes) }
        return bytes
    }

    /// Waiting long-polls, for metrics.
    public var waiterCount: Int { waiters.values.reduce(0) { $0 + $1.count } }

    static func contentHash(bundle: PolicyBundle, credentials: [String: String], exhaustedBudgets: [String] = []) -> String {
        struct Content: Encodable {
            var bundle: PolicyBundle
            var credentials: [String: String]
            var exhaustedBudgets: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Content(bundle: bundle, credentials: credentials, exhaustedBudgets: exhaustedBudgets))) ?? Data()
        return "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
