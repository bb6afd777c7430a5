import LLMeshKube

/// The OpenAPI v3 documents `kubectl` downloads to validate what it applies: one per group-version, with the CRD
/// schemas of custom resources and permissive schemas for built-in kinds (whose full schemas are not modelled).
enum OpenAPIDocuments {
    static func answer(_ path: String, store: APIStore) async throws(APIStatus) -> JSONValue {
        let groups = await store.groups
        let infos = groups.values.flatMap { $0 }
        if path == "v3" || path == "v3/" {
            var paths: [String: JSONValue] = [:]
            for info in infos {
                let key = info.group.isEmpty ? "api/\(info.version)" : "apis/\(info.group)/\(info.version)"
                paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)")]
            }
            return ["paths": .object(paths)]
        }
        if path == "v2" {
            var definitions: [String: JSONValue] = [:]
            for info in infos {
                definitions["io.llmesh.test.\(info.group.isEmpty ? "core" : info.group).\(info.version).\(info.kind)"] = [
                    "type": "object",
                    "x-kubernetes-group-version-kind": [["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]],
                ]
            }
            return ["swagger": "2.0", "info": ["title": "llmesh test API server", "version": "v1.32.0"], "paths": [:], "definitions": .object(definitions)]
        }
        guard path.hasPrefix("v3/") else { throw .notFound("no OpenAPI document \(path)") }
        let groupVersion = String(path.dropFirst(3))
        let matching = infos.filter { ($0.group.isEmpty ? "api/\($0.version)" : "apis/\($0.group)/\($0.version)") == groupVersion }
        guard !matching.isEmpty else { throw .notFound("no OpenAPI document for \(groupVersion)") }
        var schemas: [String: JSONValue] = [:]
        var paths: [String: JSONValue] = [:]
        for info in matching {
            // kubectl looks for the fieldValidation parameter on PATCH to decide that the server validates fields
            // itself (then it does not validate on the client).
            let gvk: JSONValue = ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
            let parameter: JSONValue = ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]]
            let operation: JSONValue = ["x-kubernetes-group-version-kind": gvk, "parameters": [parameter], "responses": [:]]
            let base = info.group.isEmpty ? "/api/\(info.version)" : "/apis/\(info.group)/\(info.version)"
            let objectPath = info.namespaced ? "\(base)/namespaces/{namespace}/\(info.plural)/{name}" : "\(base)/\(info.plural)/{name}"
            let collectionPath = info.namespaced ? "\(base)/namespaces/{namespace}/\(info.plural)" : "\(base)/\(info.plural)"
            paths[objectPath] = ["patch": operation, "put": operation]
            paths[collectionPath] = ["post": operation]
            var schema: JSONValue = info.schema ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            if schema["properties"] != nil {
                schema["properties"]?["metadata"] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
                schema["properties"]?["apiVersion"] = ["type": "string"]
                schema["properties"]?["kind"] = ["type": "string"]
            }
            schema["x-kubernetes-group-version-kind"] = [["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]]
            let name = "io.llmesh.test.\(info.group.isEmpty ? "core" : info.group).\(info.version).\(info.kind)"
            schemas[name] = schema
        }
        return ["openapi": "3.0.0", "info": ["title": "llmesh test API server", "version": "v1.32.0"], "paths": .object(paths), "components": ["schemas": .object(schemas)]]
    }
}
