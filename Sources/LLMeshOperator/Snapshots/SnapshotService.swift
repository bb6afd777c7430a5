import Foundation
import LLMeshModel

/// An HTTP exchange the operator's HTTPS listener hands to a service.
public struct ServiceRequest: Sendable {
    public var method: String
    /// Path without the query.
    public var path: String
    public var query: [String: String]
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Splits `/path?a=1&b=2` into the path and its decoded query.
    public static func split(uri: String) -> (path: String, query: [String: String]) {
        let path = String(uri.prefix { $0 != "?" })
        var query: [String: String] = [:]
        if let mark = uri.firstIndex(of: "?") {
            for pair in uri[uri.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                query[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            }
        }
        return (path, query)
    }
}

/// The answer of a service.
public struct ServiceResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON error body `{"error": message}`.
    public static func error(_ status: Int, _ message: String) -> ServiceResponse {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return ServiceResponse(status: status, headers: [("content-type", "application/json")], body: Array(body))
    }
}

/// `GET /v1/snapshots/{namespace}[?after=VERSION&hash=HASH&timeoutSeconds=N]`: the namespace's policy snapshot.
///
/// Without `after` it answers at once with what it has (an empty snapshot, version 0, for a namespace without llmesh
/// resources). With `after` it answers at once when a newer version exists and otherwise holds the request open until
/// one does (200) or the timeout passes (204); with `hash` (the content hash the sidecar holds) different content
/// also counts as newer, which keeps sidecars right across operator restarts. A sidecar gets only its own namespace: the token's service-account
/// namespace must equal the path's, else 403.
public struct SnapshotService: Sendable {
    let store: SnapshotStore
    let authenticator: TokenAuthenticator
    /// Cap on a long-poll, whatever the client asks.
    let maximumWait: Duration
    /// Called with the push latency of each held long-poll answered with a new snapshot: from the change to the answer.
    let onPushed: @Sendable (Duration) -> Void

    public init(store: SnapshotStore, authenticator: TokenAuthenticator, maximumWait: Duration = .seconds(60), onPushed: @escaping @Sendable (Duration) -> Void = { _ in }) {
        self.store = store
        self.authenticator = authenticator
        self.maximumWait = maximumWait
        self.onPushed = onPushed
    }

    public static let pathPrefix = "/v1/snapshots/"

    public func handle(_ request: ServiceRequest) async -> ServiceResponse {
        guard request.method == "GET" else { return .error(405, "use GET") }
        let namespace = String(request.path.dropFirst(Self.pathPrefix.count))
        guard !namespace.isEmpty, !namespace.contains("/"), namespace.count <= 63 else { return .error(404, "no such snapshot path") }
        let identity: SidecarIdentity
        switch await authenticator.authenticate(authorization: request.header("authorization")) {
        case .success(let who): identity = who
        case .failure(let failure): return .error(failure.status, failure.message)
        }
        guard identity.namespace == namespace else {
            return .error(403, "service account \(identity.namespace)/\(identity.serviceAccount) may only read the snapshot of namespace \(identity.namespace)")
        }
        var after: Int?
        if let text = request.query["after"] {
            guard let value = Int(text), value >= 0 else { return .error(400, "after must be a version number, got \(text)") }
            after = value
        }
        let requested = request.query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds(max(0, $0)) } ?? .seconds(30)
        let wait = min(requested, maximumWait)
        let delivery: SnapshotStore.Delivery?
        if let after {
            delivery = await store.waitForDelivery(namespace: namespace, after: after, knownHash: request.query["hash"], timeout: wait)
        } else {
            let current = await store.snapshot(of: namespace) ?? PolicySnapshot(namespace: namespace, version: 0, contentHash: SnapshotStore.contentHash(bundle: PolicyBundle(), credentials: [:]), bundle: PolicyBundle(), credentials: [:])
            delivery = SnapshotStore.Delivery(snapshot: current, changedAt: nil)
        }
        guard let delivery else { return ServiceResponse(status: 204) }
        let snapshot = delivery.snapshot
        let body = await store.json(of: snapshot)
        if let changedAt = delivery.changedAt { onPushed(changedAt.duration(to: .now)) }
        return ServiceResponse(status: 200, headers: [("content-type", "application/json"), ("x-llmesh-snapshot-version", String(snapshot.version)), ("x-llmesh-snapshot-hash", snapshot.contentHash)], body: body)
    }
}
