/// The API group and version every llmesh resource carries.
public let llmeshAPIVersion = "llmesh.io/v1alpha1"

/// The parts of Kubernetes object metadata llmesh reads.
public struct ObjectMeta: Sendable, Hashable, Codable {
    public var name: String
    public var namespace: String?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var generation: Int?

    public init(name: String, namespace: String? = nil, labels: [String: String] = [:], annotations: [String: String] = [:], generation: Int? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.generation = generation
    }
}

/// The `spec` of one llmesh kind: knows its kind name and how to read itself from YAML.
public protocol ResourceSpec: Sendable, Hashable, Codable {
    /// The Kubernetes `kind`, for example `LLMRoute`.
    static var kind: String { get }
}

/// A spec that reads itself from a YAML mapping, reporting every problem to the reader's collector.
protocol YAMLReadableSpec: ResourceSpec {
    init(reading reader: inout FieldReader)
}

/// One llmesh resource: `apiVersion`, `kind`, `metadata` and a typed `spec`, the shape of the CRDs.
public struct Resource<Spec: ResourceSpec>: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec) {
        self.apiVersion = llmeshAPIVersion
        self.kind = Spec.kind
        self.metadata = metadata
        self.spec = spec
    }

    /// `Kind/name`, the way problems and logs name a resource.
    public var reference: String { "\(kind)/\(metadata.name)" }
}

public typealias LLMProvider = Resource<LLMProviderSpec>
public typealias LLMRoute = Resource<LLMRouteSpec>
public typealias VirtualKey = Resource<VirtualKeySpec>
public typealias LLMPolicy = Resource<LLMPolicySpec>

/// A reference to one key of a Kubernetes Secret in the resource's namespace.
public struct SecretKeyReference: Sendable, Hashable, Codable {
    public var name: String
    public var key: String

    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    static func read(_ reader: inout FieldReader) -> SecretKeyReference? {
        let name = reader.string("name", required: true)
        let key = reader.string("key", required: true)
        guard let name, let key else { return nil }
        return SecretKeyReference(name: name, key: key)
    }
}
