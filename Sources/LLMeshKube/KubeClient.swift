import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A Kubernetes API client: typed paths over unstructured JSON objects, list with pagination, watch, patches,
/// the status subresource and TokenReview.
public final class KubeClient: Sendable {
    /// A page of a list.
    public struct ListPage: Sendable {
        public var items: [KubeObject]
        /// The list's resourceVersion, where a watch resumes.
        public var resourceVersion: String
        public var continueToken: String?
    }

    /// The content types of PATCH.
    public enum PatchKind: Sendable {
        /// RFC 7386 JSON merge patch.
        case merge
        /// RFC 6902 JSON patch.
        case json
        /// Server-side apply with this field manager; `force` takes over conflicting fields, as controllers do.
        case apply(fieldManager: String, force: Bool)

        var contentType: String {
            switch self {
            case .merge: return "application/merge-patch+json"
            case .json: return "application/json-patch+json"
            case .apply: return "application/apply-patch+yaml"
            }
        }
    }

    public let config: KubeConfig
    private let http: HTTPClient
    private let tokenSource: BearerTokenSource?
    private let logger: Logger
    /// Largest non-watch answer read into memory.
    public let maximumResponseBytes: Int

    public init(config: KubeConfig, logger: Logger = Logger(label: "llmesh.kube"), maximumResponseBytes: Int = 256 * 1024 * 1024) throws {
        self.config = config
        self.logger = logger
        self.maximumResponseBytes = maximumResponseBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = config.certificateAuthorityPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
        }
        if config.insecureSkipTLSVerify { tls.certificateVerification = .none }
        if case .clientCertificate(let certificate, let key) = config.credentials {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        configuration.decompression = .disabled
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if case .tokenFile(let path) = config.credentials { tokenSource = BearerTokenSource(path: path) } else { tokenSource = nil }
    }

    /// Closes the connection pool.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Reads

    public func get(_ type: ResourceType, _ key: ObjectKey) async throws -> KubeObject {
        KubeObject(try await send("GET", type.objectPath(key)))
    }

    /// One page of a list.
    public func list(_ type: ResourceType, namespace: String? = nil, labelSelector: String? = nil, limit: Int? = 500, continueToken: String? = nil, resourceVersion: String? = nil) async throws -> ListPage {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        let answer = try await send("GET", type.collectionPath(namespace: namespace), query: query)
        let items = (answer["items"]?.arrayValue ?? []).map { item -> KubeObject in
            // Lists omit each item's kind and apiVersion; put them back so items look like single GETs.
            var object = item
            object["kind"] = .string(type.kind)
            object["apiVersion"] = .string(type.apiVersion)
            return KubeObject(object)
        }
        let continueToken = answer[path: "metadata.continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return ListPage(items: items, resourceVersion: answer[path: "metadata.resourceVersion"]?.stringValue ?? "", continueToken: continueToken)
    }

    /// Every object, following `continue` tokens; the resourceVersion is the first page's, as the API defines.
    public func listAll(_ type: ResourceType, namespace: String? = nil, labelSelector: String? = nil, pageSize: Int = 500) async throws -> ListPage {
        var page = try await list(type, namespace: namespace, labelSelector: labelSelector, limit: pageSize)
        var items = page.items
        let version = page.resourceVersion
        while let token = page.continueToken {
            page = try await list(type, namespace: namespace, labelSelector: labelSelector, limit: pageSize, continueToken: token)
            items += page.items
        }
        return ListPage(items: items, resourceVersion: version, continueToken: nil)
    }

    /// Watches from `resourceVersion`, calling `onEvent` for each event until the server ends the stream, an
    /// `ERROR` event arrives (thrown as ``KubeAPIError``, for example 410 Expired), or the task is cancelled.
    public func watch(_ type: ResourceType, namespace: String? = nil, resourceVersion: String, labelSelector: String? = nil, timeoutSeconds: Int = 300, onEvent: (WatchEvent) async throws -> Void) async throws {
        var query: [(String, String)] = [
            ("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(timeoutSeconds)),
        ]
        if !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        let request = try makeRequest("GET", type.collectionPath(namespace: namespace), query: query, body: nil, contentType: nil)
        let response = try await execute(request, timeout: .seconds(Int64(timeoutSeconds) + 30))
        guard response.status == .ok else {
            let body = try await collect(response.body, limit: 1024 * 1024)
            throw KubeAPIError(code: Int(response.status.code), body: body, retryAfter: response.headers.first(name: "retry-after"))
        }
        var decoder = WatchLineDecoder()
        for try await chunk in response.body {
            for event in try decoder.feed(chunk.readableBytesView) {
                if let error = event.error { throw error }
                try await onEvent(event)
            }
        }
        for event in try decoder.finish() {
            if let error = event.error { throw error }
            try await onEvent(event)
        }
    }

    // MARK: Writes

    public func create(_ type: ResourceType, _ object: JSONValue, namespace: String? = nil) async throws -> KubeObject {
        KubeObject(try await send("POST", type.collectionPath(namespace: namespace ?? KubeObject(object).namespace), body: object.jsonBytes()))
    }

    /// Replaces the object; fails with 409 Conflict when its `metadata.resourceVersion` is stale.
    public func update(_ type: ResourceType, _ object: JSONValue) async throws -> KubeObject {
        KubeObject(try await send("PUT", type.objectPath(KubeObject(object).key), body: object.jsonBytes()))
    }

    /// Replaces the status subresource; fails with 409 Conflict when `metadata.resourceVersion` is stale.
    public func updateStatus(_ type: ResourceType, _ object: JSONValue) async throws -> KubeObject {
        KubeObject(try await send("PUT", type.objectPath(KubeObject(object).key) + "/status", body: object.jsonBytes()))
    }

    /// Patches the object (or its status with `subresource: "status"`).
    public func patch(_ type: ResourceType, _ key: ObjectKey, _ kind: PatchKind, body: JSONValue, subresource: String? = nil) async throws -> KubeObject {
        var query: [(String, String)] = []
        if case .apply(let manager, let force) = kind {
            query.append(("fieldManager", manager))
            if force { query.append(("force", "true")) }
        }
        let path = type.objectPath(key) + (subresource.map { "/\($0)" } ?? "")
        return KubeObject(try await send("PATCH", path, query: query, body: body.jsonBytes(), contentType: kind.contentType))
    }

    public func delete(_ type: ResourceType, _ key: ObjectKey) async throws {
        _ = try await send("DELETE", type.objectPath(key))
    }

    /// Asks the API server whether `token` is valid for one of `audiences`.
    public func tokenReview(token: String, audiences: [String]) async throws -> TokenReviewResult {
        let body: JSONValue = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": ["token": .string(token), "audiences": .array(audiences.map(JSONValue.string))],
        ]
        let answer = try await send("POST", ResourceType.tokenReviews.collectionPath(namespace: nil), body: body.jsonBytes())
        return TokenReviewResult(status: answer["status"] ?? .null)
    }

    // MARK: Transport

    private func send(_ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = "application/json") async throws -> JSONValue {
        let request = try makeRequest(method, path, query: query, body: body, contentType: body == nil ? nil : contentType)
        let response = try await execute(request, timeout: .seconds(30))
        let bytes = try await collect(response.body, limit: maximumResponseBytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw KubeAPIError(code: Int(response.status.code), body: bytes, retryAfter: response.headers.first(name: "retry-after"))
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw KubeAPIError(code: Int(response.status.code), message: "the API server answered \(method) \(path) with a body that is not JSON")
        }
    }

    private func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: timeout)
        } catch let error as KubeAPIError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeAPIError(code: 0, message: "cannot reach the API server \(config.server): \(error)")
        }
    }

    private func collect(_ body: HTTPClientResponse.Body, limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw KubeAPIError(code: 0, message: "the API server's answer is larger than \(limit) bytes")
        }
    }

    private func makeRequest(_ method: String, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?) throws -> HTTPClientRequest {
        var url = config.server + path
        if !query.isEmpty { url += "?" + query.map { "\($0.0)=\(PathSegment.escape($0.1))" }.joined(separator: "&") }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "llmesh-operator")
        switch config.credentials {
        case .token(let token): request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .tokenFile: if let token = try tokenSource?.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        case .none, .clientCertificate: break
        }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }
}

/// The answer of a TokenReview.
public struct TokenReviewResult: Sendable, Hashable {
    public var authenticated: Bool
    public var username: String?
    public var audiences: [String]
    public var error: String?
    /// `user.extra`, for example the bound pod name.
    public var extra: [String: [String]]

    init(status: JSONValue) {
        authenticated = status["authenticated"]?.boolValue ?? false
        username = status[path: "user.username"]?.stringValue
        audiences = status["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        error = status["error"]?.stringValue
        extra = status[path: "user.extra"]?.objectValue?.mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] } ?? [:]
    }

    /// The namespace of a service-account user (`system:serviceaccount:NAMESPACE:NAME`).
    public var serviceAccountNamespace: String? {
        guard let username, username.hasPrefix("system:serviceaccount:") else { return nil }
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 4 ? String(parts[2]) : nil
    }
}
