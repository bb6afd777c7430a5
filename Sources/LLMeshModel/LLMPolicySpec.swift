/// Which workloads a policy applies to.
public struct WorkloadSelector: Sendable, Hashable, Codable {
    public var matchLabels: [String: String]
    public var serviceAccounts: [String]

    public init(matchLabels: [String: String] = [:], serviceAccounts: [String] = []) {
        self.matchLabels = matchLabels
        self.serviceAccounts = serviceAccounts
    }

    static func read(_ reader: inout FieldReader) -> WorkloadSelector {
        WorkloadSelector(matchLabels: reader.stringMap("matchLabels"), serviceAccounts: reader.stringList("serviceAccounts"))
    }
}

/// What a guardrail does when it fires.
public enum GuardrailAction: String, Sendable, Hashable, Codable, CaseIterable {
    case block = "Block"
    case redact = "Redact"
    case log = "Log"
}

/// Content checks applied to prompts.
public struct Guardrails: Sendable, Hashable, Codable {
    public var pii: Bool
    public var creditCards: Bool
    public var denyPatterns: [String]
    public var maxPromptTokens: Int?
    public var action: GuardrailAction

    static func read(_ reader: inout FieldReader) -> Guardrails {
        Guardrails(
            pii: reader.bool("pii") ?? false,
            creditCards: reader.bool("creditCards") ?? false,
            denyPatterns: reader.stringList("denyPatterns"),
            maxPromptTokens: reader.int("maxPromptTokens", minimum: 1),
            action: reader.choice("action", as: GuardrailAction.self) ?? .block
        )
    }
}

/// `LLMPolicy.spec`: limits and access for workloads, with or without virtual keys.
public struct LLMPolicySpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "LLMPolicy"

    public var workloadSelector: WorkloadSelector?
    public var allowedModels: [String]
    public var limits: RateLimits?
    public var budget: Budget?
    public var guardrails: Guardrails?
    public var requireVirtualKey: Bool

    init(reading reader: inout FieldReader) {
        workloadSelector = reader.object("workloadSelector") { WorkloadSelector.read(&$0) }
        allowedModels = reader.stringList("allowedModels")
        limits = reader.object("limits") { RateLimits.read(&$0) }
        budget = reader.object("budget") { Budget.read(&$0) } ?? nil
        guardrails = reader.object("guardrails") { Guardrails.read(&$0) }
        requireVirtualKey = reader.bool("requireVirtualKey") ?? false
        for (index, pattern) in allowedModels.enumerated() {
            if let problem = ModelPattern.problem(with: pattern) { reader.report("allowedModels[\(index)]", problem) }
        }
    }
}
