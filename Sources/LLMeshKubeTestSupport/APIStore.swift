import Foundation
import LLMeshKube

/// The state of the in-process API server: resource types, objects, the global resourceVersion, the event history
/// watches resume from, and the open watches.
actor APIStore {
    /// One recorded change, for watch resumption.
    struct Event: Sendable {
        var revision: Int
        var resourceID: String
        var namespace: String?
        var type: String
        var object: JSONValue
    }

    /// An open watch: what it wants and where its events go (`nil` ends the stream).
    struct Watcher: Sendable {
        var resourceID: String
        var namespace: String?
        var selector: LabelSelector?
        var nameFilter: String?
        var bookmarks: Bool
        var deadline: ContinuousClock.Instant
        var send: @Sendable (JSONValue?) -> Void
    }

    /// Identity behind a registered token.
    struct TokenIdentity: Sendable {
        var username: String
        var uid: String
        var groups: [String]
        var audiences: [String]
        var extra: [String: [String]]
    }

    private(set) var resources: [String: ResourceInfo] = [:]
    private var objects: [String: [String: JSONValue]] = [:]
    private(set) var revision = 1000
    private var history: [Event] = []
    private let historyLimit: Int
    /// Events at or below this revision are gone; resuming from older revisions answers 410.
    private var compactedThrough = 0
    private var watchers: [UUID: Watcher] = [:]
    private var tokens: [String: TokenIdentity] = [:]
    private(set) var requestCounts: [String: Int] = [:]
    /// Set for the duration of a write that asked for `fieldValidation=Strict`.
    private var strictFieldValidation = false
    private var injectedFailures: [(method: String, pathPrefix: String, status: APIStatus, retryAfter: Int?)] = []
    private var listHolds: [(pathPrefix: String, hold: RequestHold)] = []

    init(historyLimit: Int) {
        self.historyLimit = historyLimit
        for info in ResourceInfo.builtIns { resources[info.id] = info }
        // Every cluster starts with these namespaces.
        for name in ["default", "kube-system", "kube-public"] {
            revision += 1
            objects["/v1/namespaces", default: [:]][name] = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()), "resourceVersion": .string(String(revision)), "creationTimestamp": .string(Self.timestamp())],
                "status": ["phase": "Active"],
            ]
        }
    }

    // MARK: Registry

    func resource(group: String, version: String, plural: String) -> ResourceInfo? {
        resources["\(group)/\(version)/\(plural)"]
    }

    var groups: [String: [ResourceInfo]] {
        Dictionary(grouping: resources.values, by: \.group)
    }

    // MARK: Test hooks

    func count(_ verb: String) { requestCounts[verb, default: 0] += 1 }

    /// Runs one write with the request's field validation mode (the actor runs it without interleaving).
    func withFieldValidation<T>(strict: Bool, _ body: () throws(APIStatus) -> T) throws(APIStatus) -> T {
        strictFieldValidation = strict
        defer { strictFieldValidation = false }
        return try body()
    }

    func registerToken(_ token: String, identity: TokenIdentity) { tokens[token] = identity }

    func injectFailure(method: String, pathPrefix: String, status: APIStatus, retryAfter: Int?) {
        injectedFailures.append((method, pathPrefix, status, retryAfter))
    }

    /// The injected failure for this request, consumed once.
    func takeFailure(method: String, path: String) -> (APIStatus, Int?)? {
        guard let index = injectedFailures.firstIndex(where: { $0.method == method && path.hasPrefix($0.pathPrefix) }) else { return nil }
        let failure = injectedFailures.remove(at: index)
        return (failure.status, failure.retryAfter)
    }

    /// Holds the next list (a GET that is not a watch) whose path starts with `pathPrefix`.
    func holdNextList(pathPrefix: String) -> RequestHold {
        let hold = RequestHold()
        listHolds.append((pathPrefix, hold))
        return hold
    }

    /// The hold for this request, consumed once.
    func takeListHold(path: String) -> RequestHold? {
        guard let index = listHolds.firstIndex(where: { path.hasPrefix($0.pathPrefix) }) else { return nil }
        return listHolds.remove(at: index).hold
    }

    /// Forgets the event history: resuming a watch from any earlier resourceVersion answers 410 Expired.
    func compactHistory() {
        compactedThrough = revision
        history.removeAll()
    }

    /// Ends every open watch with an in-stream 410 `ERROR` event, as an API server restart or compaction does.
    func expireWatches() {
        let status = APIStatus.expired("too old resource version: expired by test (\(revision))")
        for (_, watcher) in watchers {
            watcher.send(["type": "ERROR", "object": status.json])
            watcher.send(nil)
        }
        watchers.removeAll()
    }

    var openWatchCount: Int { watchers.count }

    // MARK: Reads

    func get(_ info: ResourceInfo, namespace: String?, name: String) throws(APIStatus) -> JSONValue {
        guard let object = objects[info.id]?[Self.key(namespace: info.namespaced ? namespace : nil, name: name)] else {
            throw .notFound("\(info.resourceName) \"\(name)\"")
        }
        return object
    }

    /// One page of a list, in key order; `continue` tokens carry the last key and the revision they were made at.
    func list(_ info: ResourceInfo, namespace: String?, selector: LabelSelector?, fieldName: String?, fieldNamespace: String?, limit: Int?, continueToken: String?) throws(APIStatus) -> (items: [JSONValue], revision: Int, continueToken: String?) {
        var after: String?
        if let continueToken {
            guard let data = Data(base64Encoded: continueToken), let text = String(data: data, encoding: .utf8),
                let bar = text.firstIndex(of: "|"), let madeAt = Int(text[..<bar])
            else { throw .badRequest("invalid continue token") }
            if madeAt <= compactedThrough { throw .expired("The provided continue parameter is too old to display a consistent list result.") }
            after = String(text[text.index(after: bar)...])
        }
        let all = (objects[info.id] ?? [:]).sorted { $0.key < $1.key }
        var items: [JSONValue] = []
        var lastKey: String?
        var more = false
        for (key, object) in all {
            if let after, key <= after { continue }
            if info.namespaced, let namespace, object[path: "metadata.namespace"]?.stringValue != namespace { continue }
            if let fieldName, object[path: "metadata.name"]?.stringValue != fieldName { continue }
            if let fieldNamespace, object[path: "metadata.namespace"]?.stringValue != fieldNamespace { continue }
            if let selector, !selector.matches(object[path: "metadata.labels"]?.stringMap ?? [:]) { continue }
            if let limit, limit > 0, items.count == limit {
                more = true
                break
            }
            items.append(object)
            lastKey = key
        }
        let token = more ? lastKey.map { Data("\(revision)|\($0)".utf8).base64EncodedString() } : nil
        return (items, revision, token)
    }

    // MARK: Writes

    func create(_ info: ResourceInfo, namespace: String?, body: JSONValue) throws(APIStatus) -> JSONValue {
        guard var object = body.objectValue.map(JSONValue.object) else { throw .badRequest("the body must be a JSON object") }
        if info.createOnly { return object }
        var metadata = object["metadata"]?.objectValue ?? [:]
        if metadata["name"]?.stringValue?.isEmpty != false, let prefix = metadata["generateName"]?.stringValue {
            metadata["name"] = .string(prefix + String(UUID().uuidString.prefix(5)).lowercased())
        }
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else { throw .invalid("\(info.kind)", ["metadata.name: Required value: name or generateName is required"]) }
        guard Self.isDNSSubdomain(name) else { throw .invalid("\(info.kind) \"\(name)\"", ["metadata.name: Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"]) }
        let ns = info.namespaced ? (namespace ?? metadata["namespace"]?.stringValue ?? "default") : nil
        if info.namespaced, let given = metadata["namespace"]?.stringValue, let namespace, given != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let key = Self.key(namespace: ns, name: name)
        if objects[info.id]?[key] != nil { throw .alreadyExists("\(info.resourceName) \"\(name)\"") }
        if info.hasStatus { object["status"] = nil }
        object["apiVersion"] = .string(info.apiVersion)
        object["kind"] = .string(info.kind)
        metadata["namespace"] = ns.map(JSONValue.string)
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(Self.timestamp())
        metadata["generation"] = 1
        metadata["resourceVersion"] = nil
        object["metadata"] = .object(metadata.filter { $0.value != .null })
        object = try validated(info, object)
        if info.kind == "CustomResourceDefinition" { object = try registerCRD(object) }
        return store(info, key: key, object: object, type: "ADDED")
    }

    /// Replaces an object (or its status); 409 when `metadata.resourceVersion` is stale.
    func update(_ info: ResourceInfo, namespace: String?, name: String, body: JSONValue, subresource: String?) throws(APIStatus) -> JSONValue {
        let key = Self.key(namespace: info.namespaced ? namespace : nil, name: name)
        guard let current = objects[info.id]?[key] else { throw .notFound("\(info.resourceName) \"\(name)\"") }
        guard body.objectValue != nil else { throw .badRequest("the body must be a JSON object") }
        if let given = body[path: "metadata.resourceVersion"]?.stringValue, !given.isEmpty, given != current[path: "metadata.resourceVersion"]?.stringValue {
            throw .conflict("Operation cannot be fulfilled on \(info.plural).\(info.group) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        return try replace(info, key: key, current: current, proposed: body, subresource: subresource)
    }

    func patch(_ info: ResourceInfo, namespace: String?, name: String, contentType: String, body: JSONValue, subresource: String?, fieldManager: String?) throws(APIStatus) -> JSONValue {
        let key = Self.key(namespace: info.namespaced ? namespace : nil, name: name)
        let isApply = contentType.hasPrefix("application/apply-patch")
        guard let current = objects[info.id]?[key] else {
            guard isApply else { throw .notFound("\(info.resourceName) \"\(name)\"") }
            guard fieldManager?.isEmpty == false else { throw .badRequest("PATCH with apply-patch requires the fieldManager parameter") }
            var object = body
            var metadata = object["metadata"]?.objectValue ?? [:]
            metadata["name"] = .string(name)
            object["metadata"] = .object(metadata)
            return try create(info, namespace: namespace, body: object)
        }
        let proposed: JSONValue
        switch contentType.split(separator: ";").first.map(String.init) ?? contentType {
        case "application/merge-patch+json", "application/strategic-merge-patch+json":
            proposed = Patches.merge(current, body)
        case "application/json-patch+json":
            proposed = try Patches.jsonPatch(current, body)
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            guard fieldManager?.isEmpty == false else { throw .badRequest("PATCH with apply-patch requires the fieldManager parameter") }
            proposed = Patches.merge(current, body)
        default:
            throw APIStatus(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        }
        return try replace(info, key: key, current: current, proposed: proposed, subresource: subresource)
    }

    private func replace(_ info: ResourceInfo, key: String, current: JSONValue, proposed: JSONValue, subresource: String?) throws(APIStatus) -> JSONValue {
        var object = current
        if subresource == "status" {
            guard info.hasStatus else { throw .notFound("status subresource of \(info.plural)") }
            object["status"] = proposed["status"]
        } else {
            for (field, value) in proposed.objectValue ?? [:] where field != "metadata" && field != "apiVersion" && field != "kind" {
                if field == "status" && info.hasStatus { continue }
                object[field] = value
            }
            for field in (current.objectValue ?? [:]).keys where proposed[field] == nil && field != "metadata" && field != "apiVersion" && field != "kind" {
                if field == "status" && info.hasStatus { continue }
                object[field] = nil
            }
            var metadata = current["metadata"]?.objectValue ?? [:]
            for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                metadata[field] = proposed[path: "metadata.\(field)"]
            }
            object["metadata"] = .object(metadata.filter { $0.value != .null })
            object = try validated(info, object)
            if Self.specChanged(current, object) {
                object["metadata"]?["generation"] = .number(Double((current[path: "metadata.generation"]?.intValue ?? 1) + 1))
            }
        }
        if object == current { return current }
        if info.kind == "CustomResourceDefinition" { object = try registerCRD(object) }
        // An object being deleted goes once its last finalizer is removed.
        if object[path: "metadata.deletionTimestamp"] != nil, (object[path: "metadata.finalizers"]?.arrayValue ?? []).isEmpty {
            objects[info.id]?[key] = nil
            return record(info, object: bump(object), type: "DELETED")
        }
        return store(info, key: key, object: object, type: "MODIFIED")
    }

    func delete(_ info: ResourceInfo, namespace: String?, name: String) throws(APIStatus) -> JSONValue {
        let key = Self.key(namespace: info.namespaced ? namespace : nil, name: name)
        guard var object = objects[info.id]?[key] else { throw .notFound("\(info.resourceName) \"\(name)\"") }
        if !(object[path: "metadata.finalizers"]?.arrayValue ?? []).isEmpty {
            guard object[path: "metadata.deletionTimestamp"] == nil else { return object }
            object["metadata"]?["deletionTimestamp"] = .string(Self.timestamp())
            return store(info, key: key, object: object, type: "MODIFIED")
        }
        objects[info.id]?[key] = nil
        if info.kind == "CustomResourceDefinition" {
            for dropped in ResourceInfo.from(crd: object) {
                resources[dropped.id] = nil
                for (_, child) in objects[dropped.id] ?? [:] { _ = record(dropped, object: bump(child), type: "DELETED") }
                objects[dropped.id] = nil
            }
        }
        return record(info, object: bump(object), type: "DELETED")
    }

    /// Answers a TokenReview from the registered tokens.
    func review(_ body: JSONValue) -> JSONValue {
        let token = body[path: "spec.token"]?.stringValue ?? ""
        let wanted = body[path: "spec.audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var review = body
        var status: JSONValue = ["authenticated": false]
        if let identity = tokens[token] {
            let granted = wanted.isEmpty ? identity.audiences : wanted.filter(identity.audiences.contains)
            if wanted.isEmpty || !granted.isEmpty {
                status = [
                    "authenticated": true,
                    "user": [
                        "username": .string(identity.username), "uid": .string(identity.uid), "groups": .array(identity.groups.map(JSONValue.string)),
                        "extra": .object(identity.extra.mapValues { .array($0.map(JSONValue.string)) }),
                    ],
                    "audiences": .array(granted.map(JSONValue.string)),
                ]
            } else {
                status = ["authenticated": false, "error": .string("token audiences \(identity.audiences) are invalid for the target audiences \(wanted)")]
            }
        } else if !token.isEmpty {
            status = ["authenticated": false, "error": "invalid bearer token"]
        }
        review["status"] = status
        review["metadata"] = ["creationTimestamp": .null]
        return review
    }

    // MARK: Watch

    /// Opens a watch. Without a resourceVersion every matching object arrives as ADDED first; with one, the history
    /// after it is replayed, or a 410 ERROR ends the stream when that history is gone.
    func watch(_ info: ResourceInfo, namespace: String?, resourceVersion: String?, selector: LabelSelector?, fieldName: String?, bookmarks: Bool, timeout: Duration, send: @escaping @Sendable (JSONValue?) -> Void) -> UUID {
        let id = UUID()
        let watcher = Watcher(resourceID: info.id, namespace: info.namespaced ? namespace : nil, selector: selector, nameFilter: fieldName, bookmarks: bookmarks, deadline: .now + timeout, send: send)
        if let text = resourceVersion, let since = Int(text), since > 0 {
            if since < compactedThrough || (history.first.map { since < $0.revision - 1 } ?? false) && since < revision {
                send(["type": "ERROR", "object": APIStatus.expired("too old resource version: \(since) (\(revision))").json])
                send(nil)
                return id
            }
            for event in history where event.revision > since && Self.wants(watcher, event) {
                send(["type": .string(event.type), "object": event.object])
            }
        } else {
            for (_, object) in (objects[info.id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let event = Event(revision: 0, resourceID: info.id, namespace: object[path: "metadata.namespace"]?.stringValue, type: "ADDED", object: object)
                if Self.wants(watcher, event) { send(["type": "ADDED", "object": object]) }
            }
        }
        watchers[id] = watcher
        return id
    }

    func stopWatch(_ id: UUID) {
        watchers[id] = nil
    }

    /// Sends bookmarks to watches that asked for them and ends watches past their timeout.
    func tick() {
        let now = ContinuousClock.now
        for (id, watcher) in watchers {
            if watcher.deadline <= now {
                watcher.send(nil)
                watchers[id] = nil
                continue
            }
            guard watcher.bookmarks, let info = resources[watcher.resourceID] else { continue }
            watcher.send(["type": "BOOKMARK", "object": ["kind": .string(info.kind), "apiVersion": .string(info.apiVersion), "metadata": ["resourceVersion": .string(String(revision))]]])
        }
    }

    // MARK: Helpers

    private func store(_ info: ResourceInfo, key: String, object: JSONValue, type: String) -> JSONValue {
        let stored = bump(object)
        objects[info.id, default: [:]][key] = stored
        return record(info, object: stored, type: type)
    }

    private func bump(_ object: JSONValue) -> JSONValue {
        revision += 1
        var copy = object
        copy["metadata"]?["resourceVersion"] = .string(String(revision))
        return copy
    }

    private func record(_ info: ResourceInfo, object: JSONValue, type: String) -> JSONValue {
        let event = Event(revision: revision, resourceID: info.id, namespace: object[path: "metadata.namespace"]?.stringValue, type: type, object: object)
        history.append(event)
        if history.count > historyLimit {
            let dropped = history.count - historyLimit
            compactedThrough = max(compactedThrough, history[dropped - 1].revision)
            history.removeFirst(dropped)
        }
        for (_, watcher) in watchers where Self.wants(watcher, event) {
            watcher.send(["type": .string(type), "object": object])
        }
        return object
    }

    private static func wants(_ watcher: Watcher, _ event: Event) -> Bool {
        guard watcher.resourceID == event.resourceID else { return false }
        if let namespace = watcher.namespace, event.namespace != namespace { return false }
        if let name = watcher.nameFilter, event.object[path: "metadata.name"]?.stringValue != name { return false }
        if let selector = watcher.selector, !selector.matches(event.object[path: "metadata.labels"]?.stringMap ?? [:]) { return false }
        return true
    }

    private func validated(_ info: ResourceInfo, _ object: JSONValue) throws(APIStatus) -> JSONValue {
        if info.kind == "Secret" { return Self.foldStringData(object) }
        guard let schema = info.schema else { return object }
        let (pruned, errors, unknown) = SchemaValidator.validate(object, schema: schema)
        if strictFieldValidation && !unknown.isEmpty {
            throw .badRequest(unknown.map { "strict decoding error: unknown field \"\($0)\"" }.joined(separator: ", "))
        }
        if !errors.isEmpty {
            throw .invalid("\(info.kind).\(info.group) \"\(object[path: "metadata.name"]?.stringValue ?? "")\"", errors)
        }
        return pruned
    }

    private func registerCRD(_ crd: JSONValue) throws(APIStatus) -> JSONValue {
        let infos = ResourceInfo.from(crd: crd)
        guard !infos.isEmpty else { throw .invalid("CustomResourceDefinition", ["spec: Required value: group, names.plural, names.kind and versions are required"]) }
        var problems: [String] = []
        for info in infos { if let schema = info.schema { problems += SchemaValidator.structuralProblems(schema) } else { problems.append("spec.versions[\(info.version)].schema.openAPIV3Schema: Required value") } }
        guard problems.isEmpty else { throw .invalid("CustomResourceDefinition \"\(crd[path: "metadata.name"]?.stringValue ?? "")\"", problems) }
        for info in infos { resources[info.id] = info }
        var accepted = crd
        let now = Self.timestamp()
        accepted["status"] = [
            "conditions": [
                ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": .string(now)],
                ["type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": .string(now)],
            ],
            "acceptedNames": crd[path: "spec.names"] ?? [:],
            "storedVersions": .array(infos.map { .string($0.version) }),
        ]
        return accepted
    }

    /// Secrets store `stringData` as base64 `data`, as the real server does on every write.
    private static func foldStringData(_ secret: JSONValue) -> JSONValue {
        guard let strings = secret["stringData"]?.objectValue else { return secret }
        var copy = secret
        var data = secret["data"]?.objectValue ?? [:]
        for (key, value) in strings {
            if let text = value.stringValue { data[key] = .string(Data(text.utf8).base64EncodedString()) }
        }
        copy["data"] = .object(data)
        copy["stringData"] = nil
        return copy
    }

    private static func specChanged(_ old: JSONValue, _ new: JSONValue) -> Bool {
        var left = old.objectValue ?? [:]
        var right = new.objectValue ?? [:]
        for ignored in ["metadata", "status"] {
            left[ignored] = nil
            right[ignored] = nil
        }
        return left != right
    }

    static func key(namespace: String?, name: String) -> String { namespace.map { "\($0)/\(name)" } ?? name }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    static func isDNSSubdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253, let first = name.first, let last = name.last else { return false }
        let allowed = name.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "." }
        return allowed && first != "-" && first != "." && last != "-" && last != "."
    }
}
