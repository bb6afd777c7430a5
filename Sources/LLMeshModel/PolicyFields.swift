/// Where a limit is counted: in this sidecar's memory, or across every sidecar through shared storage.
public enum LimitScope: String, Sendable, Hashable, Codable, CaseIterable {
    case pod = "Pod"
    case global = "Global"
}

/// Request, token and concurrency limits shared by `VirtualKey` and `LLMPolicy`.
public struct RateLimits: Sendable, Hashable, Codable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxParallel: Int?
    public var scope: LimitScope

    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxParallel: Int? = nil, scope: LimitScope = .pod) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxParallel = maxParallel
        self.scope = scope
    }

    static func read(_ reader: inout FieldReader) -> RateLimits {
        RateLimits(
            requestsPerMinute: reader.int("requestsPerMinute", minimum: 1),
            tokensPerMinute: reader.int("tokensPerMinute", minimum: 1),
            maxParallel: reader.int("maxParallel", minimum: 1),
            scope: reader.choice("scope", as: LimitScope.self) ?? .pod
        )
    }
}

/// Calendar windows a budget resets on, in UTC.
public enum BudgetPeriod: String, Sendable, Hashable, Codable, CaseIterable {
    case daily = "Daily"
    case weekly = "Weekly"
    case monthly = "Monthly"
}

/// A spending cap in US dollars per calendar window.
public struct Budget: Sendable, Hashable, Codable {
    public var usd: Double
    public var period: BudgetPeriod

    public init(usd: Double, period: BudgetPeriod) {
        self.usd = usd
        self.period = period
    }

    static func read(_ reader: inout FieldReader) -> Budget? {
        let usd = reader.double("usd", minimum: 0)
        let period = reader.choice("period", as: BudgetPeriod.self, required: true)
        guard let usd else {
            reader.report("usd", "is required")
            return nil
        }
        return period.map { Budget(usd: usd, period: $0) }
    }
}

/// Checks a model-name pattern: a name, or a glob with `*`.
enum ModelPattern {
    static func problem(with pattern: String) -> String? {
        pattern.contains(where: { $0 == " " || $0 == "\t" }) ? "model patterns must not contain spaces: \"\(pattern)\"" : nil
    }
}
