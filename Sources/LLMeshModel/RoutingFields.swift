/// How a route chooses among healthy backends of its best priority group.
public enum SelectionStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Random, in proportion to `weight` (the default; canary and A/B splits).
    case weightedRandom = "WeightedRandom"
    /// The backend with the lowest moving average of time to first byte.
    case leastLatency = "LeastLatency"
    /// The backend whose model is cheapest per token (from the provider's `pricing`).
    case leastCost = "LeastCost"
    /// The backend with the fewest requests in flight from this sidecar.
    case leastInFlight = "LeastInFlight"
}

/// A failure that can make a route retry or fall back to another backend.
public enum FailureTrigger: String, Sendable, Hashable, Codable, CaseIterable {
    /// HTTP 429 from the provider.
    case rateLimited = "429"
    /// HTTP 500–599 from the provider.
    case serverError = "5xx"
    /// Connection refused, reset or lost before the response headers arrived.
    case connectFailure = "connectFailure"
    /// The request timeout, or the connect timeout, expired.
    case timeout = "timeout"
    /// No response byte within the route's `firstTokenTimeout`.
    case firstTokenTimeout = "firstTokenTimeout"
    /// The provider refused the prompt as too long for the model's context window.
    case contextLength = "contextLength"
    /// The provider's content filter refused the request or the answer.
    case contentFilter = "contentFilter"
}

/// Retries of the same backend.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts per backend, the first one included (1 means no retry).
    public var attempts: Int
    /// Failures that are retried.
    public var on: [FailureTrigger]
    /// First backoff; each retry doubles it, with full jitter, up to `maxBackoff`.
    public var backoff: TimeSpan
    public var maxBackoff: TimeSpan
    /// Retries may add at most this share of the route's requests (over 10 s), beyond a floor of 3 retries.
    public var budgetPercent: Int

    public init(attempts: Int = 1, on: [FailureTrigger] = [.connectFailure, .serverError], backoff: TimeSpan = TimeSpan(milliseconds: 100), maxBackoff: TimeSpan = .seconds(2), budgetPercent: Int = 20) {
        self.attempts = attempts
        self.on = on
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.budgetPercent = budgetPercent
    }

    static func read(_ reader: inout FieldReader) -> RetryPolicy {
        var policy = RetryPolicy()
        policy.attempts = reader.int("attempts", minimum: 1, maximum: 10) ?? policy.attempts
        let on = FailureTrigger.readList("on", &reader)
        if reader.value("on") != nil { policy.on = on }
        policy.backoff = reader.timeSpan("backoff") ?? policy.backoff
        policy.maxBackoff = reader.timeSpan("maxBackoff") ?? policy.maxBackoff
        policy.budgetPercent = reader.int("budgetPercent", minimum: 0, maximum: 100) ?? policy.budgetPercent
        if policy.maxBackoff < policy.backoff { reader.report("maxBackoff", "must not be shorter than backoff") }
        return policy
    }
}

extension FailureTrigger {
    static func readList(_ key: String, _ reader: inout FieldReader) -> [FailureTrigger] {
        reader.choiceList(key, as: FailureTrigger.self)
    }
}

/// Passive health checking of a provider's backends: eject on failures, probe again after a cool-down.
public struct OutlierDetection: Sendable, Hashable, Codable {
    /// Eject after this many failures in a row (0 turns the rule off).
    public var consecutiveFailures: Int
    /// Eject when failures reach this share of requests in the last `interval` (0 turns the rule off)…
    public var errorRatePercent: Int
    /// …once the interval holds at least this many requests.
    public var minimumRequests: Int
    /// Window of the error-rate rule.
    public var interval: TimeSpan
    /// First ejection length; each further ejection in a row adds as much again, up to `maxEjectionTime`.
    public var baseEjectionTime: TimeSpan
    public var maxEjectionTime: TimeSpan

    public init(consecutiveFailures: Int = 5, errorRatePercent: Int = 0, minimumRequests: Int = 20, interval: TimeSpan = .seconds(10), baseEjectionTime: TimeSpan = .seconds(30), maxEjectionTime: TimeSpan = .seconds(300)) {
        self.consecutiveFailures = consecutiveFailures
        self.errorRatePercent = errorRatePercent
        self.minimumRequests = minimumRequests
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
    }

    static func read(_ reader: inout FieldReader) -> OutlierDetection {
        var detection = OutlierDetection()
        detection.consecutiveFailures = reader.int("consecutiveFailures", minimum: 0, maximum: 1000) ?? detection.consecutiveFailures
        detection.errorRatePercent = reader.int("errorRatePercent", minimum: 0, maximum: 100) ?? detection.errorRatePercent
        detection.minimumRequests = reader.int("minimumRequests", minimum: 1, maximum: 1_000_000) ?? detection.minimumRequests
        detection.interval = reader.timeSpan("interval") ?? detection.interval
        detection.baseEjectionTime = reader.timeSpan("baseEjectionTime") ?? detection.baseEjectionTime
        detection.maxEjectionTime = reader.timeSpan("maxEjectionTime") ?? detection.maxEjectionTime
        if detection.maxEjectionTime < detection.baseEjectionTime { reader.report("maxEjectionTime", "must not be shorter than baseEjectionTime") }
        if detection.interval.milliseconds == 0 { reader.report("interval", "must be longer than 0") }
        return detection
    }
}
