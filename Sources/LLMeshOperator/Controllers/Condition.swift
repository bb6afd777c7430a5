import Foundation
import LLMeshKube

/// A `metav1.Condition` as llmesh writes it: `Accepted`, `ResolvedRefs` or `Ready`.
public struct Condition: Sendable, Hashable {
    /// The three condition types every llmesh resource carries.
    public enum Kind: String, Sendable, CaseIterable {
        case accepted = "Accepted"
        case resolvedRefs = "ResolvedRefs"
        case ready = "Ready"
    }

    public var type: Kind
    public var status: Bool
    /// CamelCase, one word (`Accepted`, `InvalidSpec`, `SecretNotFound`…).
    public var reason: String
    /// What a person can do about it.
    public var message: String

    public init(_ type: Kind, _ status: Bool, reason: String, message: String) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// The condition as JSON, keeping `previous`'s `lastTransitionTime` when the status did not flip.
    func json(observedGeneration: Int, previous: JSONValue?, now: String) -> JSONValue {
        let statusText = status ? "True" : "False"
        let keepTime = previous?["status"]?.stringValue == statusText ? previous?["lastTransitionTime"]?.stringValue : nil
        return [
            "type": .string(type.rawValue),
            "status": .string(statusText),
            "observedGeneration": .number(Double(observedGeneration)),
            "lastTransitionTime": .string(keepTime ?? now),
            "reason": .string(reason),
            "message": .string(String(message.prefix(32768))),
        ]
    }
}

/// RFC 3339 timestamps with second precision, as `metav1.Time` serialises.
enum KubeTime {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }
}
