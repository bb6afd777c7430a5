import LLMeshKube
import LLMeshModel
import NIOConcurrencyHelpers

/// What reading each resource gave, by the content that decides it (kind, namespace, name, labels and spec), so a
/// namespace recompiled because one object changed reads only that object again.
public final class ParsedResourceCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (PolicyBundle, [ConfigProblem])]>([:])
    /// Entries kept before the cache starts over (bounded memory; a miss only costs a parse).
    public let capacity: Int

    public init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    static func fingerprint(_ object: KubeObject) -> String {
        let identity: JSONValue = [
            "k": object.json["kind"] ?? .null, "n": .string(object.namespace ?? ""), "m": .string(object.name),
            "l": object.json[path: "metadata.labels"] ?? .null, "s": object.spec ?? .null,
        ]
        return String(decoding: identity.jsonBytes(), as: UTF8.self)
    }

    func lookup(_ fingerprint: String) -> (PolicyBundle, [ConfigProblem])? {
        entries.withLockedValue { $0[fingerprint] }
    }

    func store(_ fingerprint: String, _ result: (PolicyBundle, [ConfigProblem])) {
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[fingerprint] = result
        }
    }

    public var count: Int { entries.withLockedValue { $0.count } }
}
