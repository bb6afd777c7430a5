import Yams

/// What the CRD of one llmesh kind says beyond its `spec` schema: names, printer columns, status and CEL rules.
public struct CRDDescriptor: Sendable {
    /// One `additionalPrinterColumns` entry.
    public struct PrinterColumn: Sendable {
        public var name: String
        public var type: String
        public var jsonPath: String
        public var description: String
        /// 0 shows the column in `kubectl get`; 1 only with `-o wide`.
        public var priority: Int = 0
    }

    public var kind: String
    public var plural: String
    public var shortNames: [String]
    public var description: String
    public var printerColumns: [PrinterColumn]
    /// Status fields besides `conditions`, `observedGeneration` and `snapshotVersion`.
    public var extraStatus: [OpenAPISchema.Property]
    /// CEL rules keyed by the schema path inside `spec` they attach to (`""` for the spec itself).
    public var rules: [String: [OpenAPISchema.ValidationRule]]

    public var singular: String { kind.lowercased() }
    public var name: String { "\(plural).llmesh.io" }
}

/// Builds the `apiextensions.k8s.io/v1` CustomResourceDefinitions of llmesh from the Swift types.
public enum CustomResourceDefinitions {
    /// The four kinds, in the order the CRD files and docs list them.
    public static let descriptors: [CRDDescriptor] = CRDCatalog.all

    /// The full schema of `descriptor`'s `spec`, with descriptions and CEL rules attached.
    public static func specSchema(for descriptor: CRDDescriptor) -> OpenAPISchema {
        var spec = SpecSchema.of(kind: descriptor.kind) ?? .object()
        spec.visit { path, schema in
            schema.description = FieldDescriptions.description(kind: descriptor.kind, path: path)
            schema.validations = descriptor.rules[path] ?? []
        }
        spec.description = "What this \(descriptor.kind) asks for."
        return spec
    }

    /// The `status` schema every kind shares, plus the kind's own fields.
    public static func statusSchema(for descriptor: CRDDescriptor) -> OpenAPISchema {
        var condition = OpenAPISchema.object([
            .init(name: "type", schema: .string(minLength: 1)),
            .init(name: "status", schema: .string(enumValues: ["True", "False", "Unknown"])),
            .init(name: "observedGeneration", schema: .integer(minimum: 0)),
            .init(name: "lastTransitionTime", schema: .string(format: "date-time")),
            .init(name: "reason", schema: .string(minLength: 1)),
            .init(name: "message", schema: .string()),
        ], required: ["type", "status", "lastTransitionTime", "reason", "message"])
        condition.description = "One condition: Accepted, ResolvedRefs or Ready."
        var conditions = OpenAPISchema.array(of: condition)
        conditions.listMapKeys = ["type"]
        var status = OpenAPISchema.object([
            .init(name: "conditions", schema: conditions),
            .init(name: "observedGeneration", schema: .integer(minimum: 0)),
            .init(name: "snapshotVersion", schema: .integer(minimum: 0)),
        ] + descriptor.extraStatus)
        status.visit { path, schema in
            if schema.description == nil { schema.description = FieldDescriptions.statusDescription(path: path) }
        }
        status.description = "What the operator observed; written by the operator only."
        return status
    }

    /// The CRD of `descriptor` as a YAML node.
    public static func node(for descriptor: CRDDescriptor) -> Node {
        let root = OpenAPISchema.object([
            .init(name: "apiVersion", schema: .string()),
            .init(name: "kind", schema: .string()),
            .init(name: "metadata", schema: .object()),
            .init(name: "spec", schema: specSchema(for: descriptor)),
            .init(name: "status", schema: statusSchema(for: descriptor)),
        ], required: ["spec"])
        var rootNode = SchemaYAML.node(for: root)
        rootNode = SchemaYAML.prepend(("description", .scalar(.init(descriptor.description))), to: rootNode)
        let columns = descriptor.printerColumns.map { column -> Node in
            var pairs: [(String, Node)] = [
                ("name", SchemaYAML.text(column.name)), ("type", SchemaYAML.text(column.type)),
                ("jsonPath", SchemaYAML.text(column.jsonPath)), ("description", SchemaYAML.text(column.description)),
            ]
            if column.priority != 0 { pairs.append(("priority", SchemaYAML.number(Double(column.priority)))) }
            return SchemaYAML.mapping(pairs)
        }
        let version = SchemaYAML.mapping([
            ("name", SchemaYAML.text("v1alpha1")), ("served", SchemaYAML.flag(true)), ("storage", SchemaYAML.flag(true)),
            ("subresources", SchemaYAML.mapping([("status", SchemaYAML.mapping([]))])),
            ("additionalPrinterColumns", .sequence(.init(columns))),
            ("schema", SchemaYAML.mapping([("openAPIV3Schema", rootNode)])),
        ])
        return SchemaYAML.mapping([
            ("apiVersion", SchemaYAML.text("apiextensions.k8s.io/v1")),
            ("kind", SchemaYAML.text("CustomResourceDefinition")),
            ("metadata", SchemaYAML.mapping([
                ("name", SchemaYAML.text(descriptor.name)),
                ("labels", SchemaYAML.mapping([("app.kubernetes.io/part-of", SchemaYAML.text("llmesh"))])),
            ])),
            ("spec", SchemaYAML.mapping([
                ("group", SchemaYAML.text("llmesh.io")),
                ("names", SchemaYAML.mapping([
                    ("kind", SchemaYAML.text(descriptor.kind)), ("listKind", SchemaYAML.text("\(descriptor.kind)List")),
                    ("plural", SchemaYAML.text(descriptor.plural)), ("singular", SchemaYAML.text(descriptor.singular)),
                    ("shortNames", .sequence(.init(descriptor.shortNames.map(SchemaYAML.text)))),
                    ("categories", .sequence(.init([SchemaYAML.text("llmesh")]))),
                ])),
                ("scope", SchemaYAML.text("Namespaced")),
                ("versions", .sequence(.init([version]))),
            ])),
        ])
    }

    /// The CRD of `descriptor` as YAML text, with a header saying where it comes from.
    public static func yaml(for descriptor: CRDDescriptor) throws -> String {
        let body = try Yams.serialize(node: node(for: descriptor), width: -1, sortKeys: false)
        return "# Generated by `llmesh crds` from the Swift types in Sources/LLMeshModel. Do not edit.\n---\n" + body
    }

    /// The file name of `descriptor`'s CRD under `crds/`.
    public static func fileName(for descriptor: CRDDescriptor) -> String { "llmesh.io_\(descriptor.plural).yaml" }

    /// Fields (by `Kind.path`) that have no description; a test keeps this empty.
    public static func undocumentedFields() -> [String] {
        var missing: [String] = []
        for descriptor in descriptors {
            var spec = SpecSchema.of(kind: descriptor.kind) ?? .object()
            spec.visit { path, _ in
                if !path.isEmpty && !path.hasSuffix("[]") && FieldDescriptions.description(kind: descriptor.kind, path: path) == nil {
                    missing.append("\(descriptor.kind).spec.\(path)")
                }
            }
        }
        return missing
    }
}
