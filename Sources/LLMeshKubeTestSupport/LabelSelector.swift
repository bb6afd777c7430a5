import Foundation

/// A parsed label selector (`a=b,c!=d,e in (f,g),h notin (i),j,!k`), as the API server evaluates it.
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement]

    init(parsing text: String) throws(APIStatus) {
        var requirements: [Requirement] = []
        for raw in Self.splitTopLevel(text) {
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            if let range = part.range(of: " notin ") {
                requirements.append(.notIn(String(part[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), try Self.set(part[range.upperBound...])))
            } else if let range = part.range(of: " in ") {
                requirements.append(.isIn(String(part[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), try Self.set(part[range.upperBound...])))
            } else if let range = part.range(of: "!=") {
                requirements.append(.notEquals(String(part[..<range.lowerBound]), String(part[range.upperBound...])))
            } else if let range = part.range(of: "==") {
                requirements.append(.equals(String(part[..<range.lowerBound]), String(part[range.upperBound...])))
            } else if let range = part.range(of: "=") {
                requirements.append(.equals(String(part[..<range.lowerBound]), String(part[range.upperBound...])))
            } else if part.hasPrefix("!") {
                requirements.append(.doesNotExist(String(part.dropFirst())))
            } else if part.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) {
                requirements.append(.exists(part))
            } else {
                throw .badRequest("unable to parse requirement: \(part)")
            }
        }
        self.requirements = requirements
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .isIn(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return !(labels[key].map(values.contains) ?? false)
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }

    private static func set(_ text: Substring) throws(APIStatus) -> Set<String> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("("), trimmed.hasSuffix(")") else { throw .badRequest("set must be in parentheses: \(text)") }
        return Set(trimmed.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// Splits on commas outside parentheses.
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}
