/// `LLMRoute.spec`: which model names go where.
public struct LLMRouteSpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "LLMRoute"

    public var match: RouteMatch
    public var backends: [RouteBackend]
    /// How a backend is chosen inside the best healthy priority group.
    public var strategy: SelectionStrategy
    /// Retries of the same backend.
    public var retry: RetryPolicy
    /// Failures that move the request on to the next backend (none by default).
    public var fallbackOn: [FailureTrigger]
    /// Whole-request timeout; overrides the provider's.
    public var timeout: TimeSpan?
    /// Longest wait for the first response byte of an attempt.
    public var firstTokenTimeout: TimeSpan?
    /// Longest silence between two streamed chunks; overrides the provider's.
    public var streamIdleTimeout: TimeSpan?

    public init(match: RouteMatch, backends: [RouteBackend], strategy: SelectionStrategy = .weightedRandom, retry: RetryPolicy = RetryPolicy(), fallbackOn: [FailureTrigger] = [], timeout: TimeSpan? = nil, firstTokenTimeout: TimeSpan? = nil, streamIdleTimeout: TimeSpan? = nil) {
        self.match = match
        self.backends = backends
        self.strategy = strategy
        self.retry = retry
        self.fallbackOn = fallbackOn
        self.timeout = timeout
        self.firstTokenTimeout = firstTokenTimeout
        self.streamIdleTimeout = streamIdleTimeout
    }

    init(reading reader: inout FieldReader) {
        match = reader.object("match", required: true) { RouteMatch.read(&$0) } ?? RouteMatch(model: "", aliases: [])
        backends = reader.objectList("backends", required: true) { RouteBackend.read(&$0) }
        strategy = reader.choice("strategy", as: SelectionStrategy.self) ?? .weightedRandom
        retry = reader.object("retry") { RetryPolicy.read(&$0) } ?? RetryPolicy()
        fallbackOn = FailureTrigger.readList("fallbackOn", &reader)
        timeout = reader.timeSpan("timeout")
        firstTokenTimeout = reader.timeSpan("firstTokenTimeout")
        streamIdleTimeout = reader.timeSpan("streamIdleTimeout")
        if backends.allSatisfy({ $0.weight == 0 }) && !backends.isEmpty {
            reader.report("backends", "at least one backend needs a weight above 0")
        }
    }

    /// Every model name this route answers to: the main name first, then the aliases.
    public var exposedModelNames: [String] { [match.model] + match.aliases }
}

/// The model names a route answers to.
public struct RouteMatch: Sendable, Hashable, Codable {
    public var model: String
    public var aliases: [String]
    /// Request headers that must all be present with exactly these values (names are case-insensitive).
    public var headers: [String: String]

    public init(model: String, aliases: [String] = [], headers: [String: String] = [:]) {
        self.model = model
        self.aliases = aliases
        self.headers = headers
    }

    static func read(_ reader: inout FieldReader) -> RouteMatch {
        let model = reader.string("model", required: true) ?? ""
        let aliases = reader.stringList("aliases")
        let headers = reader.stringMap("headers")
        if aliases.contains(model) { reader.report("aliases", "repeats the model name \"\(model)\"") }
        if Set(aliases).count != aliases.count { reader.report("aliases", "lists a name twice") }
        for name in headers.keys where name.isEmpty || name.contains(where: { $0 == " " || $0 == ":" }) {
            reader.report("headers", "\"\(name)\" is not a valid header name")
        }
        return RouteMatch(model: model, aliases: aliases, headers: Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) }))
    }
}

/// One upstream a route can send to.
public struct RouteBackend: Sendable, Hashable, Codable {
    /// Name of an `LLMProvider` in the same namespace.
    public var provider: String
    /// Model name sent upstream; defaults to the route's `match.model`.
    public var model: String?
    /// Share of traffic among backends of the same priority.
    public var weight: Int
    /// Lower numbers are tried first; higher ones only when all lower ones are unavailable.
    public var priority: Int

    public init(provider: String, model: String? = nil, weight: Int = 1, priority: Int = 0) {
        self.provider = provider
        self.model = model
        self.weight = weight
        self.priority = priority
    }

    static func read(_ reader: inout FieldReader) -> RouteBackend? {
        let provider = reader.string("provider", required: true)
        let model = reader.string("model")
        let weight = reader.int("weight", minimum: 0, maximum: 1_000_000) ?? 1
        let priority = reader.int("priority", minimum: 0, maximum: 1000) ?? 0
        return provider.map { RouteBackend(provider: $0, model: model, weight: weight, priority: priority) }
    }
}
