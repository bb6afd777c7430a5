import LLMeshProviders
import NIOHTTP1

/// What the pipeline learns about one request as it goes, for the access log, metrics and usage headers.
struct RequestTrace {
    let requestID: String
    let method: String
    let path: String
    let receivedAt: ContinuousClock.Instant
    var kind: APIKind?
    var dialect: APIDialect = .openAI
    var model: String?
    var upstreamModel: String?
    var route: String?
    var provider: String?
    var stream = false
    var usage: TokenUsage?
    var costUSD = 0.0
    var status = 0
    var errorCode: String?
    var upstreamStartedAt: ContinuousClock.Instant?
    var upstreamFinishedAt: ContinuousClock.Instant?
    var firstByteAt: ContinuousClock.Instant?
    /// Every attempt made, in order.
    var attempts: [AttemptRecord] = []
    /// What admission reserved, settled when the request ends.
    var grant: AdmissionGrant?
    /// `x-ratelimit-*` headers of a refusal.
    var rateLimitHeaders: [(String, String)] = []

    init(requestID: String, method: String, path: String, receivedAt: ContinuousClock.Instant) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.receivedAt = receivedAt
    }

    /// Time spent in the sidecar itself: before the upstream call, and after its last byte.
    func overhead(endedAt end: ContinuousClock.Instant) -> Duration {
        guard let started = upstreamStartedAt else { return end - receivedAt }
        let before = started - receivedAt
        let after = upstreamFinishedAt.map { end - $0 } ?? .zero
        return before + after
    }

    /// The `x-llmesh-*` headers known when a stream starts: who serves it and after how many attempts
    /// (`attempts` counts the one being answered, which `self.attempts` does not hold yet while it runs).
    func streamHeaders(attempts attemptCount: Int? = nil) -> [(String, String)] {
        var headers: [(String, String)] = [("x-llmesh-request-id", requestID)]
        if let provider { headers.append(("x-llmesh-provider", provider)) }
        if let provider, let upstreamModel { headers.append(("x-llmesh-backend", "\(provider)/\(upstreamModel)")) }
        headers.append(("x-llmesh-attempts", String(attemptCount ?? attempts.count + 1)))
        // llmesh's own limits replace the provider's x-ratelimit-* headers: they are the ones the app must respect.
        headers += grant?.headers ?? []
        return headers
    }

    /// The `x-llmesh-*` headers of a complete answer: the stream headers plus usage.
    func responseHeaders(attempts attemptCount: Int? = nil) -> [(String, String)] {
        var headers = streamHeaders(attempts: attemptCount)
        if let usage {
            headers.append(("x-llmesh-input-tokens", String(usage.input)))
            headers.append(("x-llmesh-output-tokens", String(usage.output)))
            headers.append(("x-llmesh-cached-input-tokens", String(usage.cachedInput)))
            headers.append(("x-llmesh-cost-usd", JSONText.number(costUSD)))
        }
        return headers
    }
}
