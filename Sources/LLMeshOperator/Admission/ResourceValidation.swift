import LLMeshKube
import LLMeshModel

/// Reads one llmesh object with the standalone file's reader, after dropping server-managed metadata; shared by the
/// namespace compiler and the validating webhook, so both judge a resource the same way.
enum ResourceValidation {
    /// The bundle holding the object when it is valid, and its problems.
    static func read(_ object: JSONValue, loader: ConfigFileLoader) -> (PolicyBundle, [ConfigProblem]) {
        var metadata: [String: JSONValue] = ["name": object[path: "metadata.name"] ?? ""]
        if let namespace = object[path: "metadata.namespace"] { metadata["namespace"] = namespace }
        if let labels = object[path: "metadata.labels"] { metadata["labels"] = labels }
        let clean: JSONValue = [
            "apiVersion": object["apiVersion"] ?? .string(llmeshAPIVersion), "kind": object["kind"] ?? .null,
            "metadata": .object(metadata), "spec": object["spec"] ?? .null,
        ]
        return loader.readResource(yaml: String(decoding: clean.jsonBytes(), as: UTF8.self))
    }

    /// Problems as `field.path: message`, joined for a condition or an admission answer.
    static func describe(_ problems: [ConfigProblem]) -> String {
        problems.map { $0.fieldPath.isEmpty ? $0.message : "\($0.fieldPath): \($0.message)" }.joined(separator: "; ")
    }
}
