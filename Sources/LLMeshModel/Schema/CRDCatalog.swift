/// The names, printer columns, status fields and CEL rules of the four llmesh CRDs.
enum CRDCatalog {
    private typealias Column = CRDDescriptor.PrinterColumn
    private typealias Rule = OpenAPISchema.ValidationRule

    private static let ready = Column(name: "Ready", type: "string", jsonPath: #".status.conditions[?(@.type=="Ready")].status"#, description: "Whether sidecars enforce this resource")
    private static let reason = Column(name: "Reason", type: "string", jsonPath: #".status.conditions[?(@.type=="Ready")].reason"#, description: "Why it is or is not ready", priority: 1)
    private static let age = Column(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation")
    private static let spend = OpenAPISchema.Property(name: "spend", schema: .number(minimum: 0))
    private static let periodStart = OpenAPISchema.Property(name: "periodStart", schema: .string(format: "date-time"))
    private static let budgetExhausted = OpenAPISchema.Property(name: "budgetExhausted", schema: .boolean)
    private static let usageSequences = OpenAPISchema.Property(name: "usageSequences", schema: .stringMap)

    /// Exactly one of the named optional fields is set.
    private static func exactlyOne(_ fields: [String], message: String) -> Rule {
        Rule(rule: "[\(fields.map { "has(self.\($0))" }.joined(separator: ", "))].filter(x, x).size() == 1", message: message)
    }

    static let all: [CRDDescriptor] = [
        CRDDescriptor(
            kind: LLMProviderSpec.kind, plural: "llmproviders", shortNames: ["llmp"],
            description: "An upstream LLM API and how the sidecar authenticates to it.",
            printerColumns: [
                Column(name: "Type", type: "string", jsonPath: ".spec.type", description: "Provider API family"),
                Column(name: "Endpoint", type: "string", jsonPath: ".spec.endpoint", description: "Base URL", priority: 1),
                ready, reason, age,
            ],
            extraStatus: [],
            rules: [
                "": [
                    Rule(rule: "self.type != 'Mock' || !has(self.endpoint)", message: "endpoint must not be set for type Mock"),
                    Rule(rule: "self.type != 'Mock' || !has(self.auth)", message: "auth must not be set for type Mock"),
                    Rule(rule: "self.type == 'Mock' || !has(self.mock)", message: "mock is only allowed for type Mock"),
                    Rule(rule: "self.type != 'OpenAICompatible' || has(self.endpoint)", message: "endpoint is required for type OpenAICompatible"),
                ],
                "auth.apiKey": [exactlyOne(["file", "env", "secretRef"], message: "set exactly one of file, env or secretRef")],
                "models[].pricing": [Rule(rule: "has(self.inputPerMillion) || has(self.outputPerMillion)", message: "set inputPerMillion or outputPerMillion")],
                "outlierDetection": [Rule(rule: "!has(self.baseEjectionTime) || !has(self.maxEjectionTime) || duration(self.maxEjectionTime) >= duration(self.baseEjectionTime)", message: "maxEjectionTime must not be shorter than baseEjectionTime")],
            ]
        ),
        CRDDescriptor(
            kind: LLMRouteSpec.kind, plural: "llmroutes", shortNames: ["llmr"],
            description: "Which model names go to which provider backends, with retries and fallbacks.",
            printerColumns: [
                Column(name: "Model", type: "string", jsonPath: ".spec.match.model", description: "Model name the route answers to"),
                Column(name: "Backends", type: "integer", jsonPath: ".status.backends", description: "Backends whose provider is ready"),
                ready, reason, age,
            ],
            extraStatus: [.init(name: "backends", schema: .integer(minimum: 0))],
            rules: [
                "": [Rule(rule: "self.backends.exists(b, !has(b.weight) || b.weight > 0)", message: "at least one backend needs a weight above 0")],
                "match": [Rule(rule: "!has(self.aliases) || !(self.model in self.aliases)", message: "aliases must not repeat the model name")],
                "retry": [Rule(rule: "!has(self.backoff) || !has(self.maxBackoff) || duration(self.maxBackoff) >= duration(self.backoff)", message: "maxBackoff must not be shorter than backoff")],
            ]
        ),
        CRDDescriptor(
            kind: VirtualKeySpec.kind, plural: "virtualkeys", shortNames: ["vkey", "vk"],
            description: "A key an app or team presents to the sidecar, mapped to models, limits and a budget.",
            printerColumns: [
                ready,
                Column(name: "Spend", type: "number", jsonPath: ".status.spend", description: "USD spent in the current budget period"),
                Column(name: "Budget", type: "number", jsonPath: ".spec.budget.usd", description: "USD allowed per period"),
                Column(name: "Disabled", type: "boolean", jsonPath: ".spec.disabled", description: "Whether the key is switched off", priority: 1),
                reason, age,
            ],
            extraStatus: [spend, periodStart, budgetExhausted, .init(name: "lastUsed", schema: .string(format: "date-time")), usageSequences],
            rules: [
                "": [exactlyOne(["secretRef", "keyHash", "keyFile"], message: "set exactly one of secretRef, keyHash or keyFile")],
            ]
        ),
        CRDDescriptor(
            kind: LLMPolicySpec.kind, plural: "llmpolicies", shortNames: ["llmpol"],
            description: "Limits, budgets, model access and guardrails for workloads, with or without virtual keys.",
            printerColumns: [
                ready,
                Column(name: "Spend", type: "number", jsonPath: ".status.spend", description: "USD spent in the current budget period"),
                Column(name: "Budget", type: "number", jsonPath: ".spec.budget.usd", description: "USD allowed per period"),
                reason, age,
            ],
            extraStatus: [spend, periodStart, budgetExhausted, .init(name: "lastUsed", schema: .string(format: "date-time")), usageSequences],
            rules: [:]
        ),
    ]
}
