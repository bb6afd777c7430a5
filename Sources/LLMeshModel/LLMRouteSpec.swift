/// `LLMRoute.spec`: which model names go where.
public struct LLMRouteSpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "LLMRoute"

    public var match: RouteMatch
    public var backends: [RouteBackend]
    /// Whole-request timeout; overrides the provider's.
    public var timeout: TimeSpan?
    /// Longest silence between two streamed chunks; overrides the provider's.
    public var streamIdleTimeout: TimeSpan?

    public init(match: RouteMatch, backends: [RouteBackend], timeout: TimeSpan? = nil, streamIdleTimeout: TimeSpan? = nil) {
        self.match = match
        self.backends = backends
        self.timeout = timeout
        self.streamIdleTimeout = streamIdleTimeout
    }

    init(reading reader: inout FieldReader) {
        match = reader.object("match", required: true) { RouteMatch.read(&$0) } ?? RouteMatch(model: "", aliases: [])
        backends = reader.objectList("backends") { RouteBackend.read(&$0) }
        timeout = reader.timeSpan("timeout")
        streamIdleTimeout = reader.timeSpan("streamIdleTimeout")
        if reader.value("backends") == nil { reader.report("backends", "is required: list at least one backend") }
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

    public init(model: String, aliases: [String] = []) {
        self.model = model
        self.aliases = aliases
    }

    static func read(_ reader: inout FieldReader) -> RouteMatch {
        let model = reader.string("model", required: true) ?? ""
        let aliases = reader.stringList("aliases")
        if aliases.contains(model) { reader.report("aliases", "repeats the model name \"\(model)\"") }
        if Set(aliases).count != aliases.count { reader.report("aliases", "lists a name twice") }
        return RouteMatch(model: model, aliases: aliases)
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
