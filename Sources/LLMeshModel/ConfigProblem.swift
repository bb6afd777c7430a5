/// One thing wrong with a configuration file or a resource, located precisely enough to fix it.
///
/// Problems are collected, never thrown one at a time: a platform engineer fixing a file wants
/// every mistake listed in one run of `llmesh check`.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// 1-based index of the YAML document in a multi-document file, if known.
    public var documentIndex: Int?
    /// `Kind/name` of the resource the problem belongs to, if known.
    public var resource: String?
    /// 1-based line in the source file, if known.
    public var line: Int?
    /// Dotted field path, for example `spec.backends[0].weight`; empty for whole-document problems.
    public var fieldPath: String
    /// What is wrong, in words a person can act on.
    public var message: String

    public init(documentIndex: Int? = nil, resource: String? = nil, line: Int? = nil, fieldPath: String, message: String) {
        self.documentIndex = documentIndex
        self.resource = resource
        self.line = line
        self.fieldPath = fieldPath
        self.message = message
    }

    public var description: String {
        var location: [String] = []
        if let documentIndex { location.append("document \(documentIndex)") }
        if let resource { location.append("(\(resource))") }
        var text = location.joined(separator: " ")
        if let line { text += text.isEmpty ? "line \(line)" : ", line \(line)" }
        if !text.isEmpty { text += ": " }
        if !fieldPath.isEmpty { text += fieldPath + ": " }
        return text + message
    }
}

/// The error thrown when a configuration cannot be accepted; it carries every problem found.
public struct ConfigValidationError: Error, Sendable, CustomStringConvertible {
    /// All problems, in file order.
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
