import Foundation
import LLMeshKube

/// RFC 7386 JSON merge patch and RFC 6902 JSON patch over ``JSONValue``.
enum Patches {
    /// Merge patch: objects merge key by key, `null` deletes, anything else replaces.
    static func merge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchObject {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    /// Applies a JSON patch document (an array of operations); any failing operation fails the whole patch.
    static func jsonPatch(_ target: JSONValue, _ patch: JSONValue) throws(APIStatus) -> JSONValue {
        guard let operations = patch.arrayValue else { throw .badRequest("a JSON patch must be an array of operations") }
        var document = target
        for (index, operation) in operations.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw .badRequest("JSON patch operation \(index) needs op and path")
            }
            let pointer = try Self.pointer(path)
            switch op {
            case "add": document = try set(document, pointer, try value(operation, index), insert: true)
            case "replace":
                _ = try get(document, pointer)
                document = try set(document, pointer, try value(operation, index), insert: false)
            case "remove": document = try remove(document, pointer)
            case "test":
                guard try get(document, pointer) == (try value(operation, index)) else { throw .invalid("JSON patch", ["test operation \(index) failed at \(path)"]) }
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else { throw .badRequest("operation \(index) needs from") }
                let source = try Self.pointer(from)
                let moved = try get(document, source)
                if op == "move" { document = try remove(document, source) }
                document = try set(document, pointer, moved, insert: true)
            default:
                throw .badRequest("unknown JSON patch operation \(op)")
            }
        }
        return document
    }

    private static func value(_ operation: JSONValue, _ index: Int) throws(APIStatus) -> JSONValue {
        guard let value = operation["value"] else { throw .badRequest("operation \(index) needs a value") }
        return value
    }

    private static func pointer(_ path: String) throws(APIStatus) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .badRequest("JSON pointer must start with /: \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ document: JSONValue, _ pointer: [String]) throws(APIStatus) -> JSONValue {
        var current = document
        for token in pointer {
            if let array = current.arrayValue, let index = Int(token), array.indices.contains(index) {
                current = array[index]
            } else if let next = current[token] {
                current = next
            } else {
                throw .invalid("JSON patch", ["path /\(pointer.joined(separator: "/")) does not exist"])
            }
        }
        return current
    }

    private static func set(_ document: JSONValue, _ pointer: [String], _ value: JSONValue, insert: Bool) throws(APIStatus) -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var object):
            if rest.isEmpty {
                object[token] = value
            } else {
                guard let child = object[token] else { throw .invalid("JSON patch", ["path segment \(token) does not exist"]) }
                object[token] = try set(child, rest, value, insert: insert)
            }
            return .object(object)
        case .array(var array):
            if rest.isEmpty {
                if token == "-" { array.append(value); return .array(array) }
                guard let index = Int(token), index >= 0, index <= array.count else { throw .invalid("JSON patch", ["bad array index \(token)"]) }
                if insert { array.insert(value, at: index) } else if index < array.count { array[index] = value } else { throw .invalid("JSON patch", ["bad array index \(token)"]) }
                return .array(array)
            }
            guard let index = Int(token), array.indices.contains(index) else { throw .invalid("JSON patch", ["bad array index \(token)"]) }
            array[index] = try set(array[index], rest, value, insert: insert)
            return .array(array)
        default:
            throw .invalid("JSON patch", ["cannot descend into a scalar at \(token)"])
        }
    }

    private static func remove(_ document: JSONValue, _ pointer: [String]) throws(APIStatus) -> JSONValue {
        guard let token = pointer.first else { throw .badRequest("cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var object):
            guard let child = object[token] else { throw .invalid("JSON patch", ["path segment \(token) does not exist"]) }
            object[token] = rest.isEmpty ? nil : try remove(child, rest)
            return .object(object)
        case .array(var array):
            guard let index = Int(token), array.indices.contains(index) else { throw .invalid("JSON patch", ["bad array index \(token)"]) }
            if rest.isEmpty { array.remove(at: index) } else { array[index] = try remove(array[index], rest) }
            return .array(array)
        default:
            throw .invalid("JSON patch", ["cannot descend into a scalar at \(token)"])
        }
    }
}
