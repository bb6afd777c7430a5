/// Read access to the metadata every Kubernetes object carries, over its unstructured JSON.
public struct KubeObject: Sendable, Hashable {
    /// The whole object.
    public var json: JSONValue

    public init(_ json: JSONValue) {
        self.json = json
    }

    public var name: String { json[path: "metadata.name"]?.stringValue ?? "" }
    public var namespace: String? { json[path: "metadata.namespace"]?.stringValue }
    public var resourceVersion: String? { json[path: "metadata.resourceVersion"]?.stringValue }
    public var uid: String? { json[path: "metadata.uid"]?.stringValue }
    public var generation: Int { json[path: "metadata.generation"]?.intValue ?? 0 }
    public var labels: [String: String] { json[path: "metadata.labels"]?.stringMap ?? [:] }
    public var kind: String? { json["kind"]?.stringValue }
    public var spec: JSONValue? { json["spec"] }
    public var status: JSONValue? { json["status"] }
    public var isBeingDeleted: Bool { json[path: "metadata.deletionTimestamp"] != nil }

    /// `namespace/name`, or `name` for cluster-scoped objects: the key of caches and work queues.
    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

/// The identity of an object inside one resource type.
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.description < rhs.description }
}
