import Foundation
import LLMeshKube

/// The JSONPath subset CRD printer columns use: `.a.b`, `.a[0].b` and `.a[?(@.key=="value")].b`.
enum SimpleJSONPath {
    static func evaluate(_ path: String, in value: JSONValue) -> JSONValue? {
        var current: [JSONValue] = [value]
        var rest = Substring(path)
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                rest = rest.dropFirst(name.count)
                current = current.compactMap { $0[String(name)] }
            } else if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if let index = Int(inside) {
                    current = current.compactMap { $0.arrayValue.flatMap { index < $0.count && index >= 0 ? $0[index] : nil } }
                } else if inside.hasPrefix("?(@.") && inside.hasSuffix(")") {
                    let condition = inside.dropFirst(4).dropLast()
                    guard let equals = condition.range(of: "==") else { return nil }
                    let key = String(condition[..<equals.lowerBound])
                    let expected = String(condition[equals.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                    current = current.flatMap { ($0.arrayValue ?? []).filter { $0[key]?.stringValue == expected } }
                } else if inside == "*" {
                    current = current.flatMap { $0.arrayValue ?? [] }
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }
        return current.first
    }
}
