import Yams

/// Renders ``OpenAPISchema`` values as YAML nodes in a stable key order.
enum SchemaYAML {
    /// A string scalar, quoted when a YAML reader would otherwise take it for a number, a boolean or null.
    static func text(_ value: String) -> Node {
        let ambiguous = Int(value) != nil || Double(value) != nil || ["", "~", "null", "true", "false", "yes", "no", "on", "off"].contains(value.lowercased())
        return .scalar(.init(value, Tag(.str), ambiguous ? .doubleQuoted : .plain))
    }
    static func flag(_ value: Bool) -> Node { .scalar(.init(value ? "true" : "false", Tag(.bool))) }
    static func number(_ value: Double) -> Node {
        let text = value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        return .scalar(.init(text, Tag(value.rounded() == value ? .int : .float)))
    }
    static func mapping(_ pairs: [(String, Node)]) -> Node {
        .mapping(.init(pairs.map { (text($0.0), $0.1) }))
    }
    static func prepend(_ pair: (String, Node), to node: Node) -> Node {
        guard case .mapping(let mapping) = node else { return node }
        return .mapping(.init([(text(pair.0), pair.1)] + mapping.map { ($0.key, $0.value) }))
    }

    static func node(for schema: OpenAPISchema) -> Node {
        var pairs: [(String, Node)] = []
        if let description = schema.description { pairs.append(("description", text(description))) }
        pairs.append(("type", text(schema.type)))
        if let format = schema.format { pairs.append(("format", text(format))) }
        if !schema.enumValues.isEmpty { pairs.append(("enum", .sequence(.init(schema.enumValues.map(text))))) }
        if let minimum = schema.minimum { pairs.append(("minimum", number(minimum))) }
        if let maximum = schema.maximum { pairs.append(("maximum", number(maximum))) }
        if let minLength = schema.minLength { pairs.append(("minLength", number(Double(minLength)))) }
        if let minItems = schema.minItems { pairs.append(("minItems", number(Double(minItems)))) }
        if let pattern = schema.pattern { pairs.append(("pattern", text(pattern))) }
        if schema.mapsToStrings { pairs.append(("additionalProperties", mapping([("type", text("string"))]))) }
        if let items = schema.items { pairs.append(("items", node(for: items))) }
        if !schema.listMapKeys.isEmpty {
            pairs.append(("x-kubernetes-list-type", text("map")))
            pairs.append(("x-kubernetes-list-map-keys", .sequence(.init(schema.listMapKeys.map(text)))))
        }
        if !schema.properties.isEmpty {
            pairs.append(("properties", mapping(schema.properties.map { ($0.name, node(for: $0.schema)) })))
        }
        if !schema.required.isEmpty { pairs.append(("required", .sequence(.init(schema.required.map(text))))) }
        if !schema.validations.isEmpty {
            let rules = schema.validations.map { mapping([("rule", text($0.rule)), ("message", text($0.message))]) }
            pairs.append(("x-kubernetes-validations", .sequence(.init(rules))))
        }
        return mapping(pairs)
    }
}
