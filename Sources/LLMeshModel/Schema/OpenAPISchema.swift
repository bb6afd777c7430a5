/// The subset of OpenAPI v3 a structural CRD schema uses, built by the readers themselves (see ``SchemaRecorder``).
public struct OpenAPISchema: Sendable, Hashable {
    /// One named property of an object schema.
    public struct Property: Sendable, Hashable {
        public var name: String
        public var schema: OpenAPISchema
    }

    /// A CEL rule (`x-kubernetes-validations`) for what the schema alone cannot say.
    public struct ValidationRule: Sendable, Hashable {
        public var rule: String
        public var message: String
    }

    public var type: String
    public var description: String?
    public var format: String?
    public var properties: [Property] = []
    public var required: [String] = []
    /// The schema of array items; stored as a list of zero or one element to keep the type finite.
    public var itemSchemas: [OpenAPISchema] = []
    public var enumValues: [String] = []
    public var minimum: Double?
    public var maximum: Double?
    public var minLength: Int?
    public var minItems: Int?
    public var pattern: String?
    /// `additionalProperties` with string values (label maps, header maps).
    public var mapsToStrings = false
    public var validations: [ValidationRule] = []
    /// `x-kubernetes-list-type: map` keyed by these fields.
    public var listMapKeys: [String] = []

    public var items: OpenAPISchema? { itemSchemas.first }

    public static func object(_ properties: [Property] = [], required: [String] = []) -> OpenAPISchema {
        var schema = OpenAPISchema(type: "object")
        schema.properties = properties
        schema.required = required
        return schema
    }

    public static func string(minLength: Int? = nil, enumValues: [String] = [], format: String? = nil, pattern: String? = nil) -> OpenAPISchema {
        var schema = OpenAPISchema(type: "string")
        schema.minLength = minLength
        schema.enumValues = enumValues
        schema.format = format
        schema.pattern = pattern
        return schema
    }

    public static func integer(minimum: Int? = nil, maximum: Int? = nil) -> OpenAPISchema {
        var schema = OpenAPISchema(type: "integer")
        schema.minimum = minimum.map(Double.init)
        schema.maximum = maximum.map(Double.init)
        return schema
    }

    public static func number(minimum: Double? = nil) -> OpenAPISchema {
        var schema = OpenAPISchema(type: "number")
        schema.minimum = minimum
        return schema
    }

    public static let boolean = OpenAPISchema(type: "boolean")

    /// A duration such as `500ms`, `30s`, `2m` or `1h` (the format ``TimeSpan`` reads; CEL's `duration()` accepts it too).
    public static let duration = OpenAPISchema.string(pattern: #"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"#)

    public static var stringMap: OpenAPISchema {
        var schema = OpenAPISchema(type: "object")
        schema.mapsToStrings = true
        return schema
    }

    public static func array(of items: OpenAPISchema, minItems: Int? = nil) -> OpenAPISchema {
        var schema = OpenAPISchema(type: "array")
        schema.itemSchemas = [items]
        schema.minItems = minItems
        return schema
    }

    /// The property named `name`, if this is an object schema that has it.
    public func property(_ name: String) -> OpenAPISchema? {
        properties.first { $0.name == name }?.schema
    }

    /// Calls `body` with every schema in the tree and its path (`spec.backends[].weight`), parents first.
    public mutating func visit(path: String = "", _ body: (String, inout OpenAPISchema) -> Void) {
        body(path, &self)
        for index in properties.indices {
            let name = properties[index].name
            properties[index].schema.visit(path: path.isEmpty ? name : "\(path).\(name)", body)
        }
        for index in itemSchemas.indices {
            itemSchemas[index].visit(path: "\(path)[]", body)
        }
    }
}

/// Collects the fields one ``FieldReader`` asks for while the readers run in schema mode.
///
/// The readers are the single source of truth for what a resource may hold: running them over an empty mapping with a
/// recorder attached yields the CRD schema, so the CRDs and the standalone file can never disagree about a field.
final class SchemaRecorder {
    private(set) var properties: [OpenAPISchema.Property] = []
    private(set) var required: [String] = []

    /// Adds `name` unless it is known already (a reader may look at a key twice).
    func record(_ name: String, _ schema: OpenAPISchema, required isRequired: Bool = false) {
        guard !properties.contains(where: { $0.name == name }) else { return }
        properties.append(.init(name: name, schema: schema))
        if isRequired { required.append(name) }
    }

    /// Replaces the schema of `name` with a more precise one (an enum or a duration read through a string accessor).
    func replace(_ name: String, _ schema: OpenAPISchema) {
        guard let index = properties.firstIndex(where: { $0.name == name }) else { return record(name, schema) }
        var refined = schema
        if properties[index].schema.minLength != nil && refined.type == "string" && refined.enumValues.isEmpty {
            refined.minLength = properties[index].schema.minLength
        }
        properties[index].schema = refined
    }

    var objectSchema: OpenAPISchema { .object(properties, required: required) }
}
