import Logging
import NIOConcurrencyHelpers

/// A change an informer saw.
public enum InformerChange: Sendable {
    case upserted(KubeObject)
    case deleted(KubeObject)

    public var object: KubeObject {
        switch self {
        case .upserted(let object), .deleted(let object): return object
        }
    }
}

/// A list-then-watch cache of one resource type, as client-go's reflector and informer keep it.
///
/// It lists, then watches from the list's resourceVersion with bookmarks. When the watch ends it resumes from the last
/// seen resourceVersion; on 410 Expired (an HTTP answer or an `ERROR` event inside the stream) it lists again and
/// reports the difference, so no change is lost: objects that vanished meanwhile are reported deleted. Transport
/// errors back off with jitter.
public final class Informer: Sendable {
    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        public var lists = 0
        public var watches = 0
        public var expirations = 0
        public var errors = 0
    }

    private struct State {
        var objects: [ObjectKey: KubeObject] = [:]
        var synced = false
        var statistics = Statistics()
    }

    public let type: ResourceType
    public let namespace: String?
    public let labelSelector: String?
    private let client: KubeClient
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Watch timeout bounds, randomised per watch as client-go does, so watches of many replicas do not end together.
    private let watchTimeout: ClosedRange<Int>

    public init(client: KubeClient, type: ResourceType, namespace: String? = nil, labelSelector: String? = nil, watchTimeoutSeconds: ClosedRange<Int> = 300...600, logger: Logger) {
        self.client = client
        self.type = type
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.watchTimeout = watchTimeoutSeconds
        self.logger = logger
    }

    /// Whether the first list has completed.
    public var hasSynced: Bool { state.withLockedValue { $0.synced } }

    public var statistics: Statistics { state.withLockedValue { $0.statistics } }

    /// The cached object at `key`.
    public func object(_ key: ObjectKey) -> KubeObject? { state.withLockedValue { $0.objects[key] } }

    /// Cached objects, of one namespace or all.
    public func objects(namespace: String? = nil) -> [KubeObject] {
        state.withLockedValue { state in
            guard let namespace else { return Array(state.objects.values) }
            return state.objects.values.filter { $0.namespace == namespace }
        }
    }

    public var count: Int { state.withLockedValue { $0.objects.count } }

    /// Lists and watches until the task is cancelled, calling `onChange` for every change of the cache.
    public func run(onChange: @Sendable (InformerChange) async -> Void) async {
        var resourceVersion: String?
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await relist(onChange: onChange)
                }
                state.withLockedValue { $0.statistics.watches += 1 }
                var lastVersion = resourceVersion ?? ""
                try await client.watch(type, namespace: namespace, resourceVersion: lastVersion, labelSelector: labelSelector, timeoutSeconds: Int.random(in: watchTimeout)) { event in
                    if let version = KubeObject(event.object).resourceVersion { lastVersion = version }
                    switch event.type {
                    case .added, .modified:
                        var object = event.object
                        object["kind"] = .string(type.kind)
                        object["apiVersion"] = .string(type.apiVersion)
                        let item = KubeObject(object)
                        state.withLockedValue { $0.objects[item.key] = item }
                        await onChange(.upserted(item))
                    case .deleted:
                        let item = KubeObject(event.object)
                        let removed = state.withLockedValue { $0.objects.removeValue(forKey: item.key) }
                        await onChange(.deleted(removed ?? item))
                    case .bookmark, .error:
                        break
                    }
                }
                resourceVersion = lastVersion
                backoff.reset()
            } catch is CancellationError {
                return
            } catch let error as KubeAPIError where error.isExpired {
                logger.info("watch expired; listing again", metadata: ["resource": "\(type)", "reason": "\(error.message)"])
                state.withLockedValue { $0.statistics.expirations += 1 }
                resourceVersion = nil
            } catch {
                state.withLockedValue { $0.statistics.errors += 1 }
                let wait = backoff.next()
                logger.warning("list/watch failed; retrying", metadata: ["resource": "\(type)", "error": "\(error)", "retryIn": "\(wait)"])
                do { try await Task.sleep(for: wait) } catch { return }
            }
        }
    }

    /// Lists everything, replaces the cache and reports what changed; returns the list's resourceVersion.
    private func relist(onChange: @Sendable (InformerChange) async -> Void) async throws -> String {
        let page = try await client.listAll(type, namespace: namespace, labelSelector: labelSelector)
        let fresh = Dictionary(page.items.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        let (changed, removed) = state.withLockedValue { state -> ([KubeObject], [KubeObject]) in
            let changed = fresh.values.filter { state.objects[$0.key]?.resourceVersion != $0.resourceVersion }
            let removed = state.objects.values.filter { fresh[$0.key] == nil }
            state.objects = fresh
            state.synced = true
            state.statistics.lists += 1
            return (changed, removed)
        }
        for object in removed { await onChange(.deleted(object)) }
        for object in changed { await onChange(.upserted(object)) }
        return page.resourceVersion
    }
}
