import Yams

/// Collects the problems found while reading one document.
final class ProblemCollector {
    private(set) var problems: [ConfigProblem] = []
    let documentIndex: Int?
    var resource: String?
    /// Set when the readers run to describe their fields rather than to read a document.
    let recordsSchema: Bool

    init(documentIndex: Int?, recordsSchema: Bool = false) {
        self.documentIndex = documentIndex
        self.recordsSchema = recordsSchema
    }

    func report(_ path: String, _ message: String, at node: Node?) {
        problems.append(
            ConfigProblem(documentIndex: documentIndex, resource: resource, line: node?.mark?.line, fieldPath: path, message: message)
        )
    }
}

/// Reads the fields of one YAML mapping with their paths, reporting type errors and unknown fields.
///
/// Every accessor records the key as known, so `finish()` can flag typos such as `backend:` for `backends:`,
/// which a permissive decoder would silently ignore.
struct FieldReader {
    let node: Node
    let path: String
    let problems: ProblemCollector
    private let entries: [(key: String, value: Node)]
    private var known: Set<String> = []
    /// In schema mode, collects every field the readers ask for (see ``SchemaRecorder``).
    let schema: SchemaRecorder?

    /// Wraps `node`; reports a problem and reads as empty when `node` is not a mapping.
    init(_ node: Node, path: String, problems: ProblemCollector) {
        self.node = node
        self.path = path
        self.problems = problems
        self.schema = problems.recordsSchema ? SchemaRecorder() : nil
        if case .mapping(let mapping) = node {
            self.entries = mapping.compactMap { pair in pair.key.string.map { (key: $0, value: pair.value) } }
        } else {
            self.entries = []
            problems.report(path, "must be a mapping, got \(node.kindDescription)", at: node)
        }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw node under `key`, marking the key known.
    mutating func value(_ key: String) -> Node? {
        known.insert(key)
        guard let node = entries.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar(let scalar) = node, scalar.tag == Tag(.null) { return nil }
        return node
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        schema?.record(key, .string(minLength: required ? 1 : nil), required: required)
        guard let node = value(key) else {
            if required { problems.report(childPath(key), "is required", at: self.node) }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            problems.report(childPath(key), "must be a string, got \(node.kindDescription)", at: node)
            return nil
        }
        if required && scalar.string.isEmpty {
            problems.report(childPath(key), "must not be empty", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func int(_ key: String, minimum: Int? = nil, maximum: Int? = nil) -> Int? {
        schema?.record(key, .integer(minimum: minimum, maximum: maximum))
        guard let node = value(key) else { return nil }
        guard case .scalar = node, let number = node.int else {
            problems.report(childPath(key), "must be an integer, got \(node.shortDescription)", at: node)
            return nil
        }
        if let minimum, number < minimum {
            problems.report(childPath(key), "must be at least \(minimum), got \(number)", at: node)
            return nil
        }
        if let maximum, number > maximum {
            problems.report(childPath(key), "must be at most \(maximum), got \(number)", at: node)
            return nil
        }
        return number
    }

    mutating func double(_ key: String, minimum: Double? = nil) -> Double? {
        schema?.record(key, .number(minimum: minimum))
        guard let node = value(key) else { return nil }
        guard case .scalar = node, let number = node.float ?? node.int.map(Double.init), number.isFinite else {
            problems.report(childPath(key), "must be a number, got \(node.shortDescription)", at: node)
            return nil
        }
        if let minimum, number < minimum {
            problems.report(childPath(key), "must be at least \(minimum), got \(number)", at: node)
            return nil
        }
        return number
    }

    mutating func bool(_ key: String) -> Bool? {
        schema?.record(key, .boolean)
        guard let node = value(key) else { return nil }
        guard case .scalar = node, let flag = node.bool else {
            problems.report(childPath(key), "must be true or false, got \(node.shortDescription)", at: node)
            return nil
        }
        return flag
    }

    mutating func timeSpan(_ key: String) -> TimeSpan? {
        defer { schema?.replace(key, .duration) }
        guard let text = string(key) else { return nil }
        guard let span = TimeSpan(parsing: text) else {
            problems.report(childPath(key), "must be a duration such as 500ms, 30s or 2m, got \"\(text)\"", at: entries.first { $0.key == key }?.value)
            return nil
        }
        return span
    }

    /// A string-valued enum field.
    mutating func choice<Value: RawRepresentable & CaseIterable>(_ key: String, as type: Value.Type, required: Bool = false) -> Value?
    where Value.RawValue == String {
        defer { schema?.replace(key, .string(enumValues: Value.allCases.map(\.rawValue))) }
        guard let text = string(key, required: required) else { return nil }
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            problems.report(childPath(key), "must be one of \(allowed), got \"\(text)\"", at: entries.first { $0.key == key }?.value)
            return nil
        }
        return value
    }

    /// A list of enum values; unknown values are reported with their index.
    mutating func choiceList<Value: RawRepresentable & CaseIterable>(_ key: String, as type: Value.Type) -> [Value]
    where Value.RawValue == String {
        defer { schema?.replace(key, .array(of: .string(enumValues: Value.allCases.map(\.rawValue)))) }
        var values: [Value] = []
        for (index, text) in stringList(key).enumerated() {
            guard let value = Value(rawValue: text) else {
                report("\(key)[\(index)]", "must be one of \(Value.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
                continue
            }
            values.append(value)
        }
        return values
    }

    mutating func stringList(_ key: String) -> [String] {
        schema?.record(key, .array(of: .string(minLength: 1)))
        guard let node = value(key) else { return [] }
        guard case .sequence(let sequence) = node else {
            problems.report(childPath(key), "must be a list of strings, got \(node.kindDescription)", at: node)
            return []
        }
        var result: [String] = []
        for (index, item) in sequence.enumerated() {
            guard case .scalar(let scalar) = item, !scalar.string.isEmpty else {
                problems.report("\(childPath(key))[\(index)]", "must be a non-empty string", at: item)
                continue
            }
            result.append(scalar.string)
        }
        return result
    }

    mutating func stringMap(_ key: String) -> [String: String] {
        schema?.record(key, .stringMap)
        guard let node = value(key) else { return [:] }
        guard case .mapping(let mapping) = node else {
            problems.report(childPath(key), "must be a mapping of strings, got \(node.kindDescription)", at: node)
            return [:]
        }
        var result: [String: String] = [:]
        for pair in mapping {
            guard let name = pair.key.string, case .scalar(let scalar) = pair.value else {
                problems.report(childPath(key), "must map strings to strings", at: pair.value)
                continue
            }
            result[name] = scalar.string
        }
        return result
    }

    /// A nested object read by `read`, or `nil` when absent.
    mutating func object<Value>(_ key: String, required: Bool = false, _ read: (inout FieldReader) -> Value) -> Value? {
        if let schema {
            schema.record(key, describeObject(at: key, read), required: required)
        }
        guard let node = value(key) else {
            if required { problems.report(childPath(key), "is required", at: self.node) }
            return nil
        }
        var reader = FieldReader(node, path: childPath(key), problems: problems)
        guard case .mapping = node else { return nil }
        let result = read(&reader)
        reader.finish()
        return result
    }

    /// A list of objects, each read by `read`.
    mutating func objectList<Value>(_ key: String, required: Bool = false, _ read: (inout FieldReader) -> Value?) -> [Value] {
        if let schema {
            schema.record(key, .array(of: describeObject(at: key, read), minItems: required ? 1 : nil), required: required)
        }
        guard let node = value(key) else {
            if required { problems.report(childPath(key), "is required: list at least one", at: self.node) }
            return []
        }
        guard case .sequence(let sequence) = node else {
            problems.report(childPath(key), "must be a list, got \(node.kindDescription)", at: node)
            return []
        }
        if required && sequence.isEmpty { problems.report(childPath(key), "is required: list at least one", at: node) }
        var result: [Value] = []
        for (index, item) in sequence.enumerated() {
            var reader = FieldReader(item, path: "\(childPath(key))[\(index)]", problems: problems)
            guard case .mapping = item else { continue }
            if let value = read(&reader) { result.append(value) }
            reader.finish()
        }
        return result
    }

    /// Runs `read` over an empty mapping in schema mode and returns the object schema it describes.
    private func describeObject<Value>(at key: String, _ read: (inout FieldReader) -> Value) -> OpenAPISchema {
        var reader = FieldReader(.mapping(Node.Mapping([])), path: childPath(key), problems: problems)
        _ = read(&reader)
        return reader.schema?.objectSchema ?? .object()
    }

    /// Reports every key that no accessor asked for.
    func finish() {
        for entry in entries where !known.contains(entry.key) {
            problems.report(childPath(entry.key), "unknown field", at: entry.value)
        }
    }

    func report(_ key: String, _ message: String) {
        problems.report(key.isEmpty ? path : childPath(key), message, at: entries.first { $0.key == key }?.value ?? node)
    }
}

extension Node {
    var kindDescription: String {
        switch self {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    var shortDescription: String {
        if case .scalar(let scalar) = self {
            let text = scalar.string
            return "\"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
        }
        return kindDescription
    }
}
