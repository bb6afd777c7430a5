import Foundation
import LLMeshKube
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An in-process Kubernetes API server for tests, with the real semantics that controllers depend on:
/// resourceVersion and generation, 409 on stale updates, the status subresource, CRDs that register their resources
/// (with schema validation and pruning), label selectors, pagination, watches with bookmarks and in-stream 410
/// errors, discovery and tables for `kubectl`, and TokenReview.
///
/// It is not etcd: everything lives in memory, CEL rules are not evaluated, server-side apply merges without field
/// ownership, and strategic merge patches are applied as merge patches. docs/testing.md lists the differences.
public final class TestAPIServer: Sendable {
    /// Settings of a test server.
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        /// Events kept for watch resumption; older resourceVersions answer 410.
        public var historyLimit = 10_000
        /// Interval of BOOKMARK events to watches that allow them.
        public var bookmarkInterval: Duration = .seconds(1)
        /// Largest request body.
        public var maximumBodyBytes = 3 * 1024 * 1024

        public init() {}
    }

    let store: APIStore
    private let channel: any Channel
    private let ticker: Task<Void, Never>
    private let connections: ConnectionSet

    private init(store: APIStore, channel: any Channel, ticker: Task<Void, Never>, connections: ConnectionSet) {
        self.store = store
        self.channel = channel
        self.ticker = ticker
        self.connections = connections
    }

    /// Starts a server on `options.host:options.port` (0 picks a free port).
    public static func start(options: Options = Options()) async throws -> TestAPIServer {
        let store = APIStore(historyLimit: options.historyLimit)
        let maximum = options.maximumBodyBytes
        let connections = ConnectionSet()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                connections.insert(channel)
                do {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(APIHTTPHandler(store: store, maximumBodyBytes: maximum))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: options.host, port: options.port).get()
        let interval = options.bookmarkInterval
        // The bookmark ticker lives as long as the server; shutdown() cancels it.
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await store.tick()
            }
        }
        return TestAPIServer(store: store, channel: channel, ticker: ticker, connections: connections)
    }

    public var port: Int { channel.localAddress?.port ?? 0 }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Writes a kubeconfig that points `kubectl` and the llmesh client at this server.
    public func writeKubeconfig(to path: String, namespace: String = "default", token: String = "test-admin-token") throws {
        let text = """
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: test
          cluster:
            server: \(baseURL)
        users:
        - name: test
          user:
            token: \(token)
        contexts:
        - name: test
          context:
            cluster: test
            user: test
            namespace: \(namespace)

        """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Makes `token` authenticate as `username` for `audiences` in TokenReviews (`extra` as bound tokens carry).
    public func registerToken(_ token: String, username: String, audiences: [String], extra: [String: [String]] = [:]) async {
        await store.registerToken(token, identity: .init(username: username, uid: UUID().uuidString, groups: ["system:authenticated"], audiences: audiences, extra: extra))
    }

    /// Every open watch receives an in-stream 410 Expired `ERROR` event and ends.
    public func expireWatches() async { await store.expireWatches() }

    /// Forgets the event history, so resuming from an earlier resourceVersion answers 410.
    public func compactHistory() async { await store.compactHistory() }

    /// The next request with `method` whose path starts with `pathPrefix` fails with `status`.
    public func failNext(method: String, pathPrefix: String, status: Int, retryAfter: Int? = nil) async {
        await store.injectFailure(method: method, pathPrefix: pathPrefix, status: APIStatus(code: status, reason: status == 429 ? "TooManyRequests" : "InternalError", message: "injected by the test"), retryAfter: retryAfter)
    }

    /// Holds the next list (not watch) request whose path starts with `pathPrefix` until the returned hold is released.
    public func holdNextList(pathPrefix: String) async -> RequestHold {
        await store.holdNextList(pathPrefix: pathPrefix)
    }

    /// Requests served per verb (`list`, `watch`, `get`, `create`, `update`, `patch`, `delete`).
    public func requestCount(_ verb: String) async -> Int { await store.requestCounts[verb] ?? 0 }

    public var openWatches: Int { get async { await store.openWatchCount } }

    /// The current resourceVersion.
    public var resourceVersion: Int { get async { await store.revision } }

    /// Stops listening and closes every open connection, as a server that goes away does.
    public func shutdown() async {
        ticker.cancel()
        try? await channel.close()
        await connections.closeAll()
    }
}

/// The open connections of a server, so that shutting down drops them too.
final class ConnectionSet: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in self?.channels.withLockedValue { _ = $0.removeValue(forKey: id) } }
    }

    func closeAll() async {
        for channel in channels.withLockedValue({ Array($0.values) }) { try? await channel.close() }
    }
}
