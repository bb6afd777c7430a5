import LLMeshKube

/// What the in-process API server knows about one resource type: its names and, for custom resources, the CRD's
/// schema, status subresource and printer columns.
struct ResourceInfo: Sendable {
    var group: String
    var version: String
    var plural: String
    var singular: String
    var kind: String
    var namespaced: Bool
    var shortNames: [String] = []
    var categories: [String] = []
    var verbs: [String] = ["create", "delete", "get", "list", "patch", "update", "watch"]
    var hasStatus = false
    /// `openAPIV3Schema` of the served version, for custom resources.
    var schema: JSONValue?
    var printerColumns: [JSONValue] = []
    /// Create-only kinds such as TokenReview.
    var createOnly = false

    /// `plural.group`, or `plural` for the core group, as messages name resources.
    var resourceName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `group/version/plural`, the storage key.
    var id: String { "\(group)/\(version)/\(plural)" }

    static let builtIns: [ResourceInfo] = [
        ResourceInfo(group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"]),
        ResourceInfo(group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true),
        ResourceInfo(group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, shortNames: ["cm"]),
        ResourceInfo(group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"]),
        ResourceInfo(group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"]),
        ResourceInfo(group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease", namespaced: true),
        ResourceInfo(group: "authentication.k8s.io", version: "v1", plural: "tokenreviews", singular: "tokenreview", kind: "TokenReview", namespaced: false, verbs: ["create"], createOnly: true),
        ResourceInfo(group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", singular: "mutatingwebhookconfiguration", kind: "MutatingWebhookConfiguration", namespaced: false),
        ResourceInfo(group: "admissionregistration.k8s.io", version: "v1", plural: "validatingwebhookconfigurations", singular: "validatingwebhookconfiguration", kind: "ValidatingWebhookConfiguration", namespaced: false),
        ResourceInfo(group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: ["deploy"]),
        ResourceInfo(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", singular: "customresourcedefinition", kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"]),
    ]

    /// The resource types a CRD defines (one per served version).
    static func from(crd: JSONValue) -> [ResourceInfo] {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue, let names = spec["names"],
            let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue
        else { return [] }
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        return (spec["versions"]?.arrayValue ?? []).compactMap { version -> ResourceInfo? in
            guard let name = version["name"]?.stringValue, version["served"]?.boolValue != false else { return nil }
            var info = ResourceInfo(group: group, version: name, plural: plural, singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind, namespaced: namespaced)
            info.shortNames = names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
            info.categories = names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? []
            info.hasStatus = version[path: "subresources.status"] != nil
            info.schema = version[path: "schema.openAPIV3Schema"]
            info.printerColumns = version["additionalPrinterColumns"]?.arrayValue ?? []
            return info
        }
    }

    /// The APIResource entry of discovery.
    var discoveryEntry: JSONValue {
        var entry: JSONValue = [
            "name": .string(plural), "singularName": .string(singular), "namespaced": .bool(namespaced), "kind": .string(kind),
            "verbs": .array(verbs.map(JSONValue.string)),
        ]
        if !shortNames.isEmpty { entry["shortNames"] = .array(shortNames.map(JSONValue.string)) }
        if !categories.isEmpty { entry["categories"] = .array(categories.map(JSONValue.string)) }
        return entry
    }
}
