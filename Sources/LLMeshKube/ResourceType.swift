/// A Kubernetes resource type: where its objects live in the REST API.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    public var version: String
    /// Lower-case plural, as in the URL (`llmroutes`).
    public var plural: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `apiVersion` of objects of this type.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path, in one namespace or (for `nil`) across all namespaces.
    public func collectionPath(namespace: String?) -> String {
        let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { return "\(base)/namespaces/\(PathSegment.escape(namespace))/\(plural)" }
        return "\(base)/\(plural)"
    }

    /// The path of one object.
    public func objectPath(_ key: ObjectKey) -> String {
        "\(collectionPath(namespace: namespaced ? key.namespace : nil))/\(PathSegment.escape(key.name))"
    }

    public static let secrets = ResourceType(group: "", version: "v1", plural: "secrets", kind: "Secret")
    public static let namespaces = ResourceType(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let events = ResourceType(group: "", version: "v1", plural: "events", kind: "Event")
    public static let leases = ResourceType(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease")
    public static let tokenReviews = ResourceType(group: "authentication.k8s.io", version: "v1", plural: "tokenreviews", kind: "TokenReview", namespaced: false)

    public static let mutatingWebhookConfigurations = ResourceType(group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false)
    public static let validatingWebhookConfigurations = ResourceType(group: "admissionregistration.k8s.io", version: "v1", plural: "validatingwebhookconfigurations", kind: "ValidatingWebhookConfiguration", namespaced: false)

    /// The four llmesh kinds (`llmesh.io/v1alpha1`).
    public static let llmProviders = llmesh("llmproviders", kind: "LLMProvider")
    public static let llmRoutes = llmesh("llmroutes", kind: "LLMRoute")
    public static let virtualKeys = llmesh("virtualkeys", kind: "VirtualKey")
    public static let llmPolicies = llmesh("llmpolicies", kind: "LLMPolicy")

    private static func llmesh(_ plural: String, kind: String) -> ResourceType {
        ResourceType(group: "llmesh.io", version: "v1alpha1", plural: plural, kind: kind)
    }
}

/// Percent-encoding of one URL path segment or query value.
enum PathSegment {
    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
