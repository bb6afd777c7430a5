/// Where a limit is counted: in this sidecar's memory, or across every sidecar through shared storage.
public enum LimitScope: String, Sendable, Hashable, Codable, CaseIterable {
    case pod = "Pod"
    case global = "Global"
}

/// What a `Global` limit does while its shared store cannot be reached.
public enum StoreFailureMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Let requests through (counted in `llmesh_limit_store_errors_total`).
    case failOpen = "FailOpen"
    /// Refuse requests with 503 `limit_store_unavailable`.
    case failClosed = "FailClosed"
}

/// Request, token and concurrency limits shared by `VirtualKey` and `LLMPolicy`.
public struct RateLimits: Sendable, Hashable, Codable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxParallel: Int?
    public var scope: LimitScope
    /// Length of the counting window; the per-minute numbers are allowed per window (default one minute).
    public var window: TimeSpan
    /// For `scope: Global`: what to do when the shared store is unreachable.
    public var onStoreUnavailable: StoreFailureMode

    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxParallel: Int? = nil, scope: LimitScope = .pod, window: TimeSpan = .seconds(60), onStoreUnavailable: StoreFailureMode = .failOpen) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxParallel = maxParallel
        self.scope = scope
        self.window = window
        self.onStoreUnavailable = onStoreUnavailable
    }

    static func read(_ reader: inout FieldReader) -> RateLimits {
        let limits = RateLimits(
            requestsPerMinute: reader.int("requestsPerMinute", minimum: 1),
            tokensPerMinute: reader.int("tokensPerMinute", minimum: 1),
            maxParallel: reader.int("maxParallel", minimum: 1),
            scope: reader.choice("scope", as: LimitScope.self) ?? .pod,
            window: reader.timeSpan("window") ?? .seconds(60),
            onStoreUnavailable: reader.choice("onStoreUnavailable", as: StoreFailureMode.self) ?? .failOpen
        )
        if limits.window.milliseconds < 1000 || limits.window.milliseconds % 1000 != 0 {
            reader.report("window", "must be whole seconds, at least 1s")
        }
        return limits
    }
}

/// Limits for one model (name, alias or `*` glob) inside a policy or key.
public struct ModelLimits: Sendable, Hashable, Codable {
    public var model: String
    public var limits: RateLimits

    static func read(_ reader: inout FieldReader) -> ModelLimits? {
        let model = reader.string("model", required: true)
        let limits = reader.object("limits", required: true) { RateLimits.read(&$0) }
        guard let model, let limits else { return nil }
        return ModelLimits(model: model, limits: limits)
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
