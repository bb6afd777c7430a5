import AsyncHTTPClient
import Foundation
import LLMeshModel
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Keeps the sidecar's policy in step with the operator: a long-poll of `GET /v1/snapshots/{namespace}?after=VERSION`
/// that the operator answers as soon as a newer snapshot exists.
///
/// Each snapshot is validated and applied whole (requests in flight finish on the policy they started with) and saved
/// as the last good one. When the operator cannot be reached the sidecar keeps serving what it has and retries with
/// exponential backoff and full jitter, so an operator restart does not bring every sidecar back at the same instant.
public struct SnapshotSubscriber: Service {
    let subscription: OperatorSubscription
    let store: PolicyStore
    let credentials: CredentialStore
    let metrics: SidecarMetrics
    let logger: Logger
    let http: HTTPClient

    public init(subscription: OperatorSubscription, store: PolicyStore, credentials: CredentialStore, metrics: SidecarMetrics, eventLoopGroup: any EventLoopGroup, logger: Logger) throws {
        self.subscription = subscription
        self.store = store
        self.credentials = credentials
        self.metrics = metrics
        self.logger = logger
        var configuration = HTTPClient.Configuration(tlsConfiguration: try subscription.tlsConfiguration(), timeout: .init(connect: .seconds(5)))
        configuration.decompression = .disabled
        self.http = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }

    /// Applies the cached snapshot, if there is one; used at start before the operator answers.
    public static func applyCached(_ subscription: OperatorSubscription, store: PolicyStore, credentials: CredentialStore, logger: Logger) -> Bool {
        guard let path = subscription.cacheFile, let snapshot = SnapshotCache.read(path: path), snapshot.namespace == subscription.namespace else { return false }
        do {
            try apply(snapshot, store: store, credentials: credentials)
            logger.info("serving the last good snapshot from disk until the operator answers", metadata: ["version": "\(snapshot.version)", "path": "\(path)"])
            return true
        } catch {
            logger.warning("cached snapshot is not valid; waiting for the operator", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The content hash recorded in a snapshot policy's `source`.
    static func hash(fromSource source: String) -> String {
        String(source.split(separator: " ").last ?? "")
    }

    static func apply(_ snapshot: PolicySnapshot, store: PolicyStore, credentials: CredentialStore) throws {
        var policy = try RuntimePolicy(bundle: snapshot.bundle, version: snapshot.version, source: "operator snapshot \(snapshot.contentHash)", standalone: false)
        policy.exhaustedBudgets = Set(snapshot.exhaustedBudgets)
        credentials.setSnapshotKeys(snapshot.credentials)
        store.apply(policy)
    }

    public func run() async throws {
        // Graceful shutdown cancels the subscription at once, whatever request is pending: the policy in force stays.
        try? await cancelWhenGracefulShutdown { await subscribe() }
        try? await http.shutdown()
    }

    private func subscribe() async {
        var backoff = SubscriberBackoff(initial: subscription.retryInitial, maximum: subscription.retryMaximum)
        var known = store.current.map { ($0.version, Self.hash(fromSource: $0.source)) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if let snapshot = try await poll(after: known?.0, hash: known?.1) {
                    do {
                        try Self.apply(snapshot, store: store, credentials: credentials)
                        known = (snapshot.version, snapshot.contentHash)
                        metrics.recordReload(success: true, version: snapshot.version)
                        logger.info("snapshot applied", metadata: ["version": "\(snapshot.version)", "hash": "\(snapshot.contentHash)", "resources": "\(snapshot.bundle.count)"])
                        if let path = subscription.cacheFile {
                            do { try SnapshotCache.write(snapshot, path: path) } catch { logger.warning("cannot save the snapshot", metadata: ["path": "\(path)", "error": "\(error)"]) }
                        }
                    } catch {
                        // A snapshot the sidecar cannot enforce is never half-applied; wait for the next version.
                        known = (snapshot.version, snapshot.contentHash)
                        metrics.recordReload(success: false, version: store.current?.version ?? 0)
                        logger.error("snapshot rejected; keeping the policy in force", metadata: ["version": "\(snapshot.version)", "error": "\(error)"])
                    }
                }
                backoff.reset()
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                let wait = backoff.next()
                logger.warning("operator unreachable; serving the policy in force", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// One long-poll: the newer snapshot, or `nil` when the operator held the request until its timeout.
    private func poll(after version: Int?, hash: String?) async throws -> PolicySnapshot? {
        let token = try String(contentsOfFile: subscription.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let seconds = Int(subscription.pollTimeout.components.seconds)
        var url = "\(subscription.url)/v1/snapshots/\(subscription.namespace)?timeoutSeconds=\(seconds)"
        if let version { url += "&after=\(version)" }
        if let hash { url += "&hash=\(hash)" }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(Int64(seconds) + 15))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        switch response.status.code {
        case 200:
            return try JSONDecoder().decode(PolicySnapshot.self, from: Data(body.readableBytesView))
        case 204, 304:
            return nil
        default:
            throw SnapshotFetchError(status: Int(response.status.code), message: String(String(buffer: body).prefix(300)))
        }
    }
}

/// The operator refused or failed a snapshot request.
struct SnapshotFetchError: Error, CustomStringConvertible {
    var status: Int
    var message: String
    var description: String { "operator answered \(status): \(message)" }
}

/// Exponential backoff with full jitter for reconnecting to the operator.
struct SubscriberBackoff {
    let initial: Duration
    let maximum: Duration
    private var step: Duration

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.step = initial
    }

    /// A uniformly random wait up to the current step, which then doubles up to `maximum`.
    mutating func next() -> Duration {
        let wait = step * Double.random(in: 0...1)
        step = min(step * 2, maximum)
        return max(wait, .milliseconds(50))
    }

    mutating func reset() { step = initial }
}
