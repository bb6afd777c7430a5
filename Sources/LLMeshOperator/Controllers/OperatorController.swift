import LLMeshKube
import LLMeshModel
import Logging
import NIOConcurrencyHelpers

/// Settings of the reconciling part of the operator.
public struct ControllerSettings: Sendable {
    /// Watch one namespace, or all (`nil`).
    public var namespace: String?
    /// Concurrent namespace reconciles.
    public var workers: Int
    /// Leader election; `nil` makes this replica write status unconditionally (single replica).
    public var leaderElection: LeaderElectionSettings?
    /// How often the leader writes usage batches to status.
    public var usageFlushInterval: Duration

    public init(namespace: String? = nil, workers: Int = 2, leaderElection: LeaderElectionSettings? = nil, usageFlushInterval: Duration = .seconds(1)) {
        self.namespace = namespace
        self.workers = workers
        self.leaderElection = leaderElection
        self.usageFlushInterval = usageFlushInterval
    }
}

/// Where the leader lease lives and who this replica is.
public struct LeaderElectionSettings: Sendable {
    public var leaseName: String
    public var leaseNamespace: String
    public var identity: String
    public var timing: LeaderElectionTiming

    public init(leaseName: String = "llmesh-operator", leaseNamespace: String, identity: String, timing: LeaderElectionTiming = .init()) {
        self.leaseName = leaseName
        self.leaseNamespace = leaseNamespace
        self.identity = identity
        self.timing = timing
    }
}

/// Watches the llmesh kinds and Secrets, compiles each changed namespace into a policy snapshot and, while leader,
/// writes every resource's conditions.
public final class OperatorController: Sendable {
    private let client: KubeClient
    private let settings: ControllerSettings
    private let logger: Logger
    public let metrics: OperatorMetrics
    public let snapshots: SnapshotStore
    /// Usage batches from sidecars, written by the leader.
    public let usage: UsageIntake
    private let queue = WorkQueue<String>()
    private let informers: [ResourceType: Informer]
    private let elector: LeaderElector?
    /// Per namespace: the Secrets its resources refer to, and the newest resourceVersion seen.
    private let index = NIOLockedValueBox(NamespaceIndex())
    private let parsed = ParsedResourceCache()

    private struct NamespaceIndex {
        var referencedSecrets: [String: Set<String>] = [:]
        var sourceVersions: [String: Int] = [:]
    }

    static let watchedKinds: [ResourceType] = [.llmProviders, .llmRoutes, .virtualKeys, .llmPolicies]

    public init(client: KubeClient, settings: ControllerSettings, metrics: OperatorMetrics = OperatorMetrics(), snapshots: SnapshotStore = SnapshotStore(), logger: Logger) {
        self.client = client
        self.settings = settings
        self.metrics = metrics
        self.snapshots = snapshots
        self.logger = logger
        var informers: [ResourceType: Informer] = [:]
        for type in Self.watchedKinds + [.secrets] {
            informers[type] = Informer(client: client, type: type, namespace: settings.namespace, logger: logger)
        }
        self.informers = informers
        let elector = settings.leaderElection.map {
            LeaderElector(client: client, leaseName: $0.leaseName, namespace: $0.leaseNamespace, identity: $0.identity, timing: $0.timing, logger: logger)
        }
        self.elector = elector
        self.usage = UsageIntake(client: client, isLeader: { elector?.isLeader ?? true }, logger: logger)
    }

    /// Whether status writes are allowed now.
    public var isLeader: Bool { elector?.isLeader ?? true }

    /// Whether every informer finished its first list (the operator's readiness).
    public var hasSynced: Bool { informers.values.allSatisfy(\.hasSynced) }

    /// Informer counters, by kind, for tests and metrics.
    public func informerStatistics() -> [String: Informer.Statistics] {
        Dictionary(uniqueKeysWithValues: informers.map { ($0.key.kind, $0.value.statistics) })
    }

    /// Runs informers, workers and the leader election until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (type, informer) in informers {
                group.addTask { await informer.run { change in await self.observe(change, of: type) } }
            }
            if let elector {
                group.addTask {
                    await elector.run { leading in
                        self.metrics.leader.set(Double(leading ? 1 : 0))
                        if leading { await self.enqueueAllNamespaces() }
                    }
                }
            } else {
                metrics.leader.set(Double(1))
            }
            for _ in 0..<max(1, settings.workers) {
                group.addTask { await self.work() }
            }
            group.addTask { await self.housekeeping() }
            group.addTask {
                // Keeps the work queue open until the group is cancelled, then lets the workers finish.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                await self.queue.shutDown()
            }
            await group.waitForAll()
        }
    }

    /// Writes usage every second and recompiles every namespace every five minutes (budget periods roll over
    /// without any object changing).
    private func housekeeping() async {
        var tick = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: settings.usageFlushInterval) } catch { break }
            let before = await usage.appliedBatches
            await usage.flush()
            let written = await usage.appliedBatches - before
            if written > 0 { metrics.usageBatches.increment(by: Int64(written)) }
            metrics.usageLag.set(await usage.lastLagSeconds)
            metrics.connectedSidecars.set(Double(await snapshots.waiterCount))
            tick += 1
            if tick % 300 == 0 { await enqueueAllNamespaces() }
        }
        await usage.flush()
    }

    private func observe(_ change: InformerChange, of type: ResourceType) async {
        let object = change.object
        guard let namespace = object.namespace else { return }
        if let version = object.resourceVersion.flatMap(Int.init) {
            index.withLockedValue { $0.sourceVersions[namespace] = max($0.sourceVersions[namespace] ?? 0, version) }
        }
        if type == .secrets {
            let referenced = index.withLockedValue { $0.referencedSecrets[namespace]?.contains(object.name) ?? false }
            guard referenced else { return }
        }
        await queue.add(namespace)
        metrics.queueDepth.set(Double(await queue.depth))
    }

    private func enqueueAllNamespaces() async {
        var namespaces: Set<String> = []
        for type in Self.watchedKinds { for object in informers[type]?.objects() ?? [] { if let ns = object.namespace { namespaces.insert(ns) } } }
        for namespace in namespaces { await queue.add(namespace) }
    }

    private func work() async {
        while let namespace = await queue.next() {
            let start = ContinuousClock.now
            do {
                try await reconcile(namespace: namespace)
                await queue.forget(namespace)
                metrics.reconcileSuccesses.increment()
            } catch {
                metrics.reconcileFailures.increment()
                logger.warning("reconcile failed; retrying with backoff", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
                await queue.addRateLimited(namespace)
            }
            metrics.reconcileDuration.record(start.duration(to: .now))
            await queue.done(namespace)
            metrics.queueDepth.set(Double(await queue.depth))
        }
    }

    /// Compiles `namespace`, publishes its snapshot and, while leader, writes the statuses that changed.
    func reconcile(namespace: String) async throws {
        let inputs = NamespaceInputs(
            namespace: namespace,
            providers: informers[.llmProviders]?.objects(namespace: namespace) ?? [],
            routes: informers[.llmRoutes]?.objects(namespace: namespace) ?? [],
            virtualKeys: informers[.virtualKeys]?.objects(namespace: namespace) ?? [],
            policies: informers[.llmPolicies]?.objects(namespace: namespace) ?? [],
            secrets: Dictionary((informers[.secrets]?.objects(namespace: namespace) ?? []).map { ($0.name, NamespaceInputs.secretData($0)) }, uniquingKeysWith: { _, last in last })
        )
        let compilation = NamespaceCompiler.compile(inputs, cache: parsed)
        let sourceVersion = index.withLockedValue { state -> Int in
            state.referencedSecrets[namespace] = compilation.referencedSecrets
            return state.sourceVersions[namespace] ?? 0
        }
        let snapshot = await snapshots.update(namespace: namespace, bundle: compilation.bundle, credentials: compilation.credentials, exhaustedBudgets: compilation.exhaustedBudgets, sourceVersion: sourceVersion)
        metrics.namespaces.set(Double(await snapshots.namespaces.count))
        metrics.snapshotVersion(namespace: namespace).set(Double(snapshot.version))
        guard isLeader else { return }
        var firstError: (any Error)?
        for entry in compilation.entries {
            var status = entry.status
            if status.isReady { status.snapshotVersion = snapshot.version }
            do {
                try await write(status, for: entry)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Writes `status` unless the object already says the same; on 409 reads the object again and retries once.
    private func write(_ status: ResourceStatus, for entry: NamespaceCompilation.Entry) async throws {
        var object = entry.object
        for attempt in 0..<2 {
            guard status.differs(from: object.status) else { return }
            guard isLeader else { return }
            var updated = object.json
            updated["status"] = status.merged(into: object.status, now: KubeTime.now())
            do {
                _ = try await client.updateStatus(entry.type, updated)
                metrics.statusWrites.increment()
                return
            } catch let error as KubeAPIError where error.isConflict && attempt == 0 {
                metrics.statusConflicts.increment()
                object = try await client.get(entry.type, object.key)
                guard object.generation == entry.object.generation else { return }
            } catch let error as KubeAPIError where error.isNotFound {
                return
            }
        }
    }
}
