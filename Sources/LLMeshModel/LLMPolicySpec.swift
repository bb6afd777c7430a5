import Foundation

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

/// Content checks applied to prompts, built in (no external service).
public struct Guardrails: Sendable, Hashable, Codable {
    /// Shorthand for `emails`, `phoneNumbers` and `nationalIDs` together.
    public var pii: Bool
    public var emails: Bool
    public var phoneNumbers: Bool
    /// US social security numbers and UK national insurance numbers.
    public var nationalIDs: Bool
    /// Payment card numbers, Luhn-checked.
    public var creditCards: Bool
    /// Regular expressions (ICU syntax) that must not appear.
    public var denyPatterns: [String]
    /// Prompts estimated above this many tokens are refused, whatever the action.
    public var maxPromptTokens: Int?
    public var action: GuardrailAction

    public init(pii: Bool = false, emails: Bool = false, phoneNumbers: Bool = false, nationalIDs: Bool = false, creditCards: Bool = false, denyPatterns: [String] = [], maxPromptTokens: Int? = nil, action: GuardrailAction = .block) {
        self.pii = pii
        self.emails = emails
        self.phoneNumbers = phoneNumbers
        self.nationalIDs = nationalIDs
        self.creditCards = creditCards
        self.denyPatterns = denyPatterns
        self.maxPromptTokens = maxPromptTokens
        self.action = action
    }

    static func read(_ reader: inout FieldReader) -> Guardrails {
        let guardrails = Guardrails(
            pii: reader.bool("pii") ?? false,
            emails: reader.bool("emails") ?? false,
            phoneNumbers: reader.bool("phoneNumbers") ?? false,
            nationalIDs: reader.bool("nationalIDs") ?? false,
            creditCards: reader.bool("creditCards") ?? false,
            denyPatterns: reader.stringList("denyPatterns"),
            maxPromptTokens: reader.int("maxPromptTokens", minimum: 1),
            action: reader.choice("action", as: GuardrailAction.self) ?? .block
        )
        for (index, pattern) in guardrails.denyPatterns.enumerated() where (try? NSRegularExpression(pattern: pattern)) == nil {
            reader.report("denyPatterns[\(index)]", "is not a valid regular expression")
        }
        return guardrails
    }
}

/// `LLMPolicy.spec`: limits and access for workloads, with or without virtual keys.
public struct LLMPolicySpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "LLMPolicy"

    public var workloadSelector: WorkloadSelector?
    public var allowedModels: [String]
    public var limits: RateLimits?
    /// Limits for each end user (`x-llmesh-user`) of the matched workloads.
    public var userLimits: RateLimits?
    /// Limits for particular models.
    public var modelLimits: [ModelLimits]
    public var budget: Budget?
    public var guardrails: Guardrails?
    public var requireVirtualKey: Bool

    init(reading reader: inout FieldReader) {
        workloadSelector = reader.object("workloadSelector") { WorkloadSelector.read(&$0) }
        allowedModels = reader.stringList("allowedModels")
        limits = reader.object("limits") { RateLimits.read(&$0) }
        userLimits = reader.object("userLimits") { RateLimits.read(&$0) }
        modelLimits = reader.objectList("modelLimits") { ModelLimits.read(&$0) }
        budget = reader.object("budget") { Budget.read(&$0) } ?? nil
        guardrails = reader.object("guardrails") { Guardrails.read(&$0) }
        requireVirtualKey = reader.bool("requireVirtualKey") ?? false
        for (index, pattern) in allowedModels.enumerated() {
            if let problem = ModelPattern.problem(with: pattern) { reader.report("allowedModels[\(index)]", problem) }
        }
    }
}
