import Foundation
import LLMeshKube

/// Validates a custom resource against its CRD's structural schema and prunes unknown fields, as the API server
/// does (CEL rules in `x-kubernetes-validations` are not evaluated here).
enum SchemaValidator {
    /// The pruned object, the violations, and the paths of the unknown fields that were pruned (which
    /// `fieldValidation=Strict` turns into errors).
    static func validate(_ value: JSONValue, schema: JSONValue, path: String = "") -> (pruned: JSONValue, errors: [String], unknown: [String]) {
        var errors: [String] = []
        var unknown: [String] = []
        let pruned = check(value, schema: schema, path: path, errors: &errors, unknown: &unknown, root: true)
        return (pruned, errors, unknown)
    }

    private static func check(_ value: JSONValue, schema: JSONValue, path: String, errors: inout [String], unknown: inout [String], root: Bool = false) -> JSONValue {
        if value == .null, schema["nullable"]?.boolValue == true { return value }
        let type = schema["type"]?.stringValue
        let label = path.isEmpty ? "<root>" : path
        switch (type, value) {
        case ("object", .object(let object)):
            if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true && schema["properties"] == nil { return value }
            var result: [String: JSONValue] = [:]
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                errors.append("\(path.isEmpty ? name : "\(path).\(name)"): Required value")
            }
            for (key, child) in object {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if root && (key == "apiVersion" || key == "kind" || key == "metadata") {
                    result[key] = child
                } else if let childSchema = properties[key] {
                    result[key] = check(child, schema: childSchema, path: childPath, errors: &errors, unknown: &unknown)
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    result[key] = check(child, schema: additional, path: childPath, errors: &errors, unknown: &unknown)
                } else if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true {
                    result[key] = child
                } else {
                    unknown.append(childPath)
                }
                // Anything else is pruned, silently, as the real server does.
            }
            return .object(result)
        case ("array", .array(let items)):
            if let minItems = schema["minItems"]?.intValue, items.count < minItems {
                errors.append("\(label): Invalid value: \(items.count): must have at least \(minItems) items")
            }
            if let maxItems = schema["maxItems"]?.intValue, items.count > maxItems {
                errors.append("\(label): Too many: \(items.count): must have at most \(maxItems) items")
            }
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.enumerated().map { check($1, schema: itemSchema, path: "\(path)[\($0)]", errors: &errors, unknown: &unknown) })
        case ("string", .string(let text)):
            if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
                errors.append("\(label): Unsupported value: \"\(text)\": supported values: \(allowed.compactMap(\.stringValue).map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            if let minLength = schema["minLength"]?.intValue, text.count < minLength {
                errors.append("\(label): Invalid value: \"\(text)\": should be at least \(minLength) chars long")
            }
            if let maxLength = schema["maxLength"]?.intValue, text.count > maxLength {
                errors.append("\(label): Too long: may not be longer than \(maxLength)")
            }
            if let pattern = schema["pattern"]?.stringValue, text.range(of: pattern, options: .regularExpression) == nil {
                errors.append("\(label): Invalid value: \"\(text)\": should match '\(pattern)'")
            }
            return value
        case ("integer", .number(let number)):
            guard number.rounded() == number else {
                errors.append("\(label): Invalid value: \(number): must be an integer")
                return value
            }
            bounds(number, schema, label, &errors)
            return value
        case ("number", .number(let number)):
            bounds(number, schema, label, &errors)
            return value
        case ("boolean", .bool):
            return value
        case (nil, _):
            return value
        default:
            errors.append("\(label): Invalid value: \"\(kindName(value))\": \(label) in body must be of type \(type ?? "?"): \"\(kindName(value))\"")
            return value
        }
    }

    private static func bounds(_ number: Double, _ schema: JSONValue, _ label: String, _ errors: inout [String]) {
        let shown = number.rounded() == number ? String(Int(number)) : String(number)
        if let minimum = schema["minimum"]?.doubleValue, number < minimum {
            errors.append("\(label): Invalid value: \(shown): \(label) in body should be greater than or equal to \(minimum.rounded() == minimum ? String(Int(minimum)) : String(minimum))")
        }
        if let maximum = schema["maximum"]?.doubleValue, number > maximum {
            errors.append("\(label): Invalid value: \(shown): \(label) in body should be less than or equal to \(maximum.rounded() == maximum ? String(Int(maximum)) : String(maximum))")
        }
    }

    private static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Whether a CRD's schema is structural in the ways that matter here: every node names its type.
    static func structuralProblems(_ schema: JSONValue, path: String = "openAPIV3Schema") -> [String] {
        var problems: [String] = []
        if schema["type"] == nil && schema["x-kubernetes-preserve-unknown-fields"]?.boolValue != true && schema["x-kubernetes-int-or-string"]?.boolValue != true {
            problems.append("\(path).type: Required value: must not be empty for specified object fields")
        }
        for (name, child) in schema["properties"]?.objectValue ?? [:] {
            problems += structuralProblems(child, path: "\(path).properties[\(name)]")
        }
        if let items = schema["items"] { problems += structuralProblems(items, path: "\(path).items") }
        return problems
    }
}
