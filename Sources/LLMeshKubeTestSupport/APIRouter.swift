import Foundation
import LLMeshKube
import NIOConcurrencyHelpers
import NIOHTTP1

/// Turns one request into an answer from the store: discovery, CRUD, patches, status, lists, tables and watches.
struct APIRouter {
    struct Answer {
        var status: Int
        var json: JSONValue
        var headers: [(String, String)] = []
    }

    let store: APIStore

    /// The answer, or `nil` for a watch, whose events go to `send` after `onWatchStart`.
    func answer(head: HTTPRequestHead, body: [UInt8], send: @escaping @Sendable (JSONValue?) -> Void, onWatchStart: @escaping @Sendable (UUID) -> Void) async -> Answer? {
        let uri = head.uri
        let path = String(uri.prefix { $0 != "?" })
        let query = Self.query(uri)
        do {
            if let (failure, retryAfter) = await store.takeFailure(method: head.method.rawValue, path: path) {
                return Answer(status: failure.code, json: failure.json, headers: retryAfter.map { [("retry-after", String($0))] } ?? [])
            }
            let isWatch = query["watch"] == "true" || query["watch"] == "1"
            if head.method == .GET, !isWatch, let hold = await store.takeListHold(path: path) {
                // Waits outside the store, which keeps serving every other request meanwhile.
                await hold.wait()
            }
            if path.hasPrefix("/_llmesh-test/") { return try await testHook(path: path, body: body) }
            guard let route = APIPath(path) else { throw APIStatus.notFound("the server could not find the requested resource (path \(path))") }
            switch route {
            case .version:
                return Answer(status: 200, json: ["major": "1", "minor": "32", "gitVersion": "v1.32.0-llmesh-test", "platform": "linux/amd64"])
            case .apiVersions:
                return Answer(status: 200, json: ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]]])
            case .apiGroupList:
                let groups = await store.groups.filter { !$0.key.isEmpty }.sorted { $0.key < $1.key }.map { Self.groupJSON($0.key, $0.value) }
                return Answer(status: 200, json: ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)])
            case .group(let name):
                guard let infos = await store.groups[name] else { throw APIStatus.notFound("the server could not find the requested resource") }
                var group = Self.groupJSON(name, infos)
                group["kind"] = "APIGroup"
                group["apiVersion"] = "v1"
                return Answer(status: 200, json: group)
            case .resourceList(let group, let version):
                let infos = (await store.groups[group] ?? []).filter { $0.version == version }
                guard !infos.isEmpty else { throw APIStatus.notFound("the server could not find the requested resource") }
                var entries: [JSONValue] = []
                for info in infos.sorted(by: { $0.plural < $1.plural }) {
                    entries.append(info.discoveryEntry)
                    if info.hasStatus {
                        entries.append(["name": .string("\(info.plural)/status"), "singularName": "", "namespaced": .bool(info.namespaced), "kind": .string(info.kind), "verbs": ["get", "patch", "update"]])
                    }
                }
                return Answer(status: 200, json: ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(entries)])
            case .openAPI(let rest):
                return Answer(status: 200, json: try await OpenAPIDocuments.answer(rest, store: store))
            case .resource(let group, let version, let namespace, let plural, let name, let subresource):
                guard let info = await store.resource(group: group, version: version, plural: plural) else {
                    throw APIStatus.notFound("the server could not find the requested resource")
                }
                return try await resource(info, method: head.method, namespace: namespace, name: name, subresource: subresource, query: query, headers: head.headers, body: body, send: send, onWatchStart: onWatchStart)
            }
        } catch let status as APIStatus {
            return Answer(status: status.code, json: status.json)
        } catch {
            let status = APIStatus(code: 500, reason: "InternalError", message: "\(error)")
            return Answer(status: 500, json: status.json)
        }
    }

    private func resource(_ info: ResourceInfo, method: HTTPMethod, namespace: String?, name: String?, subresource: String?, query: [String: String], headers: HTTPHeaders, body: [UInt8], send: @escaping @Sendable (JSONValue?) -> Void, onWatchStart: @escaping @Sendable (UUID) -> Void) async throws -> Answer? {
        if let subresource, subresource != "status" { throw APIStatus.notFound("subresource \(subresource)") }
        let wantsTable = headers[canonicalForm: "accept"].contains { $0.contains("as=Table") }
        let contentType = headers.first(name: "content-type") ?? "application/json"
        if contentType.contains("protobuf") || contentType.contains("cbor") {
            throw APIStatus(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        }
        let selector = try query["labelSelector"].map { text throws(APIStatus) in try LabelSelector(parsing: text) }
        let (fieldName, fieldNamespace) = try Self.fieldSelector(query["fieldSelector"])
        if info.namespaced, let namespace, method == .POST || method == .PUT || (method == .PATCH && contentType.contains("apply")) {
            _ = try await store.get(ResourceInfo.builtIns[0], namespace: nil, name: namespace)
        }
        switch (method, name) {
        case (.GET, nil):
            if query["watch"] == "true" || query["watch"] == "1" {
                await store.count("watch")
                let timeout = query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds($0) } ?? .seconds(1800)
                // The stream's head goes out before any event.
                let gate = WatchGate(send: send)
                let id = await store.watch(info, namespace: namespace, resourceVersion: query["resourceVersion"], selector: selector, fieldName: fieldName, bookmarks: query["allowWatchBookmarks"] == "true", timeout: timeout, send: gate.forward)
                onWatchStart(id)
                gate.open()
                return nil
            }
            await store.count("list")
            let limit = query["limit"].flatMap(Int.init)
            let page = try await store.list(info, namespace: namespace, selector: selector, fieldName: fieldName, fieldNamespace: fieldNamespace, limit: limit, continueToken: query["continue"])
            var metadata: JSONValue = ["resourceVersion": .string(String(page.revision))]
            if let token = page.continueToken { metadata["continue"] = .string(token) }
            if wantsTable { return Answer(status: 200, json: TableRenderer.table(for: page.items, info: info, listMetadata: metadata)) }
            return Answer(status: 200, json: ["kind": .string("\(info.kind)List"), "apiVersion": .string(info.apiVersion), "metadata": metadata, "items": .array(page.items)])
        case (.GET, let name?):
            await store.count("get")
            let object = try await store.get(info, namespace: namespace, name: name)
            if wantsTable { return Answer(status: 200, json: TableRenderer.table(for: [object], info: info, listMetadata: ["resourceVersion": object[path: "metadata.resourceVersion"] ?? ""])) }
            return Answer(status: 200, json: object)
        case (.POST, nil):
            await store.count("create")
            let decoded = try BodyDecoder.decode(body, contentType: contentType)
            if info.kind == "TokenReview" { return Answer(status: 201, json: await store.review(decoded)) }
            if query["dryRun"] == "All" { return Answer(status: 201, json: decoded) }
            let strict = query["fieldValidation"] == "Strict"
            return Answer(status: 201, json: try await store.createChecked(info, namespace: namespace, body: decoded, strict: strict))
        case (.PUT, let name?):
            await store.count("update")
            let decoded = try BodyDecoder.decode(body, contentType: contentType)
            return Answer(status: 200, json: try await store.updateChecked(info, namespace: namespace, name: name, body: decoded, subresource: subresource, strict: query["fieldValidation"] == "Strict"))
        case (.PATCH, let name?):
            await store.count("patch")
            let decoded = try BodyDecoder.decode(body, contentType: contentType)
            return Answer(status: 200, json: try await store.patchChecked(info, namespace: namespace, name: name, contentType: contentType, body: decoded, subresource: subresource, fieldManager: query["fieldManager"], strict: query["fieldValidation"] == "Strict"))
        case (.DELETE, let name?):
            await store.count("delete")
            return Answer(status: 200, json: try await store.delete(info, namespace: namespace, name: name))
        default:
            throw APIStatus.methodNotAllowed("\(method.rawValue) is not supported on \(info.plural)\(name == nil ? "" : "/\(name ?? "")")")
        }
    }

    /// Hooks for tests driving a server in another process: expire watches, compact history, register tokens.
    private func testHook(path: String, body: [UInt8]) async throws -> Answer {
        switch path {
        case "/_llmesh-test/expire-watches":
            await store.expireWatches()
        case "/_llmesh-test/compact":
            await store.compactHistory()
        case "/_llmesh-test/tokens":
            let request = try BodyDecoder.decode(body, contentType: "application/json")
            guard let token = request["token"]?.stringValue, let username = request["username"]?.stringValue else { throw APIStatus.badRequest("token and username are required") }
            let audiences = request["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let extra = request["extra"]?.objectValue?.mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] } ?? [:]
            await store.registerToken(token, identity: .init(username: username, uid: UUID().uuidString, groups: ["system:authenticated"], audiences: audiences, extra: extra))
        case "/_llmesh-test/counts":
            return Answer(status: 200, json: .object((await store.requestCounts).mapValues { .number(Double($0)) }))
        default:
            throw APIStatus.notFound("no test hook \(path)")
        }
        return Answer(status: 200, json: ["ok": true])
    }

    private static func groupJSON(_ name: String, _ infos: [ResourceInfo]) -> JSONValue {
        let versions = Set(infos.map(\.version)).sorted().map { JSONValue.object(["groupVersion": .string("\(name)/\($0)"), "version": .string($0)]) }
        return ["name": .string(name), "versions": .array(versions), "preferredVersion": versions.first ?? [:]]
    }

    private static func fieldSelector(_ text: String?) throws(APIStatus) -> (String?, String?) {
        guard let text, !text.isEmpty else { return (nil, nil) }
        var name: String?
        var namespace: String?
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2 else { throw .badRequest("invalid field selector \(part)") }
            switch pieces[0].replacingOccurrences(of: "==", with: "") {
            case "metadata.name": name = pieces[1].hasPrefix("=") ? String(pieces[1].dropFirst()) : pieces[1]
            case "metadata.namespace": namespace = pieces[1].hasPrefix("=") ? String(pieces[1].dropFirst()) : pieces[1]
            default: throw .badRequest("field label not supported: \(pieces[0])")
            }
        }
        return (name, namespace)
    }

    static func query(_ uri: String) -> [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }
}

/// Holds watch events back until the response head is written, then forwards them in order. Sending only schedules
/// a write on the connection's event loop, so doing it under the lock keeps the order without blocking.
final class WatchGate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, held: [JSONValue?])>((false, []))
    private let send: @Sendable (JSONValue?) -> Void

    init(send: @escaping @Sendable (JSONValue?) -> Void) {
        self.send = send
    }

    var forward: @Sendable (JSONValue?) -> Void {
        { [self] event in
            state.withLockedValue { state in
                if state.open { send(event) } else { state.held.append(event) }
            }
        }
    }

    func open() {
        state.withLockedValue { state in
            state.open = true
            for event in state.held { send(event) }
            state.held = []
        }
    }
}
