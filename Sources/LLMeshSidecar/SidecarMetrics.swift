import LLMeshProviders
import NIOConcurrencyHelpers
import Prometheus

/// The sidecar's Prometheus metrics, named after the OpenTelemetry GenAI semantic conventions.
public final class SidecarMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    private static let tokenBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864]
    private static let durationBuckets: [Duration] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92].map { .milliseconds(Int64($0 * 1000)) }
    private static let firstTokenBuckets: [Duration] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0].map { .microseconds(Int64($0 * 1_000_000)) }
    private static let overheadBuckets: [Duration] = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000].map { .microseconds($0) }

    public init() {
        inFlightGauge = registry.makeGauge(descriptor: .init(metricName: "llmesh_requests_in_flight", unitName: "", helpText: "Requests being served."))
        overhead = registry.makeDurationHistogram(descriptor: .init(metricName: "llmesh_sidecar_overhead_seconds", unitName: "", helpText: "Time spent in the sidecar itself, excluding the wait for the upstream."), buckets: Self.overheadBuckets)
        reloadCounter(success: true).increment(by: Int64(0))
        reloadCounter(success: false).increment(by: Int64(0))
    }

    /// What one finished request contributes to the metrics.
    public struct RequestRecord: Sendable {
        public var operation: String
        public var provider: String
        public var requestModel: String
        public var responseModel: String
        public var status: Int
        /// `nil` on success; the llmesh error code, or `upstream_<status>` for passed-through errors.
        public var errorType: String?
        public var usage: TokenUsage?
        public var costUSD: Double
        public var duration: Duration
        public var timeToFirstToken: Duration?
        public var overhead: Duration
    }

    /// The metric handles of one (operation, provider, model) series, resolved once and reused: looking a
    /// series up in the registry validates names and takes the registry lock, too slow for every request.
    private struct Series: Sendable {
        let duration: DurationHistogram
        let timeToFirstToken: DurationHistogram
        let inputTokens: ValueHistogram
        let outputTokens: ValueHistogram
        let cachedTokens: Counter
        let cost: Counter
    }

    private struct SeriesKey: Hashable, Sendable {
        var operation: String
        var provider: String
        var model: String
    }

    private struct OutcomeKey: Hashable, Sendable {
        var series: SeriesKey
        var status: Int
        var errorType: String?
    }

    private let series = NIOLockedValueBox<[SeriesKey: Series]>([:])
    private let outcomes = NIOLockedValueBox<[OutcomeKey: (requests: Counter, duration: DurationHistogram?)]>([:])
    private let overhead: DurationHistogram
    private let inFlightGauge: Gauge
    private let attemptCounters = NIOLockedValueBox<[String: Counter]>([:])

    public func record(_ request: RequestRecord) {
        let key = SeriesKey(operation: request.operation, provider: request.provider, model: request.requestModel)
        let handles = series(for: key)
        let outcome = outcome(for: OutcomeKey(series: key, status: request.status, errorType: request.errorType))
        outcome.requests.increment()
        (outcome.duration ?? handles.duration).record(request.duration)
        overhead.record(request.overhead)
        if let ttft = request.timeToFirstToken { handles.timeToFirstToken.record(ttft) }
        if let usage = request.usage {
            handles.inputTokens.record(Double(usage.input))
            handles.outputTokens.record(Double(usage.output))
            if usage.cachedInput > 0 { handles.cachedTokens.increment(by: Int64(usage.cachedInput)) }
        }
        if request.costUSD > 0 { handles.cost.increment(by: request.costUSD) }
    }

    private func labels(_ key: SeriesKey) -> [(String, String)] {
        [("gen_ai_operation_name", key.operation), ("gen_ai_provider_name", key.provider), ("gen_ai_request_model", key.model)]
    }

    private func series(for key: SeriesKey) -> Series {
        if let existing = series.withLockedValue({ $0[key] }) { return existing }
        let base = labels(key)
        let made = Series(
            duration: registry.makeDurationHistogram(descriptor: Self.durationName, labels: base, buckets: Self.durationBuckets),
            timeToFirstToken: registry.makeDurationHistogram(descriptor: .init(metricName: "gen_ai_server_time_to_first_token_seconds", unitName: "", helpText: "Time from request received to the first response byte."), labels: base, buckets: Self.firstTokenBuckets),
            inputTokens: registry.makeValueHistogram(descriptor: Self.tokenName, labels: base + [("gen_ai_token_type", "input")], buckets: Self.tokenBuckets),
            outputTokens: registry.makeValueHistogram(descriptor: Self.tokenName, labels: base + [("gen_ai_token_type", "output")], buckets: Self.tokenBuckets),
            cachedTokens: registry.makeCounter(descriptor: .init(metricName: "llmesh_tokens_total", unitName: "", helpText: "Tokens used."), labels: base + [("gen_ai_token_type", "cached_input")]),
            cost: registry.makeCounter(descriptor: .init(metricName: "llmesh_cost_usd_total", unitName: "", helpText: "Cost of requests in US dollars."), labels: base)
        )
        series.withLockedValue { $0[key] = made }
        return made
    }

    private func outcome(for key: OutcomeKey) -> (requests: Counter, duration: DurationHistogram?) {
        if let existing = outcomes.withLockedValue({ $0[key] }) { return existing }
        let base = labels(key.series)
        let requests = registry.makeCounter(descriptor: .init(metricName: "llmesh_requests_total", unitName: "", helpText: "Requests by HTTP status."), labels: base + [("http_response_status_code", String(key.status)), ("error_type", key.errorType ?? "")])
        let duration = key.errorType.map { registry.makeDurationHistogram(descriptor: Self.durationName, labels: base + [("error_type", $0)], buckets: Self.durationBuckets) }
        outcomes.withLockedValue { $0[key] = (requests, duration) }
        return (requests, duration)
    }

    private static var durationName: MetricNameDescriptor { MetricNameDescriptor(metricName: "gen_ai_server_request_duration_seconds", unitName: "", helpText: "Time from request received to response finished.") }
    private static var tokenName: MetricNameDescriptor { MetricNameDescriptor(metricName: "gen_ai_client_token_usage", unitName: "", helpText: "Tokens used per request.") }

    /// Records one upstream attempt and how it ended (`success`, `stream_error`, `upstream_503`, `upstream_timeout`…).
    func recordAttempt(backend: BackendKey, outcome: String) {
        let key = backend.provider + "\u{0}" + backend.model + "\u{0}" + outcome
        if let counter = attemptCounters.withLockedValue({ $0[key] }) {
            counter.increment()
            return
        }
        let counter = registry.makeCounter(descriptor: .init(metricName: "llmesh_upstream_attempts_total", unitName: "", helpText: "Upstream attempts by backend and outcome."), labels: [("gen_ai_provider_name", backend.provider), ("gen_ai_response_model", backend.model), ("outcome", outcome)])
        attemptCounters.withLockedValue { $0[key] = counter }
        counter.increment()
    }

    /// Records a retry, or one the retry budget refused.
    func recordRetry(route: String, performed: Bool) {
        registry.makeCounter(descriptor: .init(metricName: "llmesh_retries_total", unitName: "", helpText: "Retries performed, and retries refused by the retry budget."), labels: [("route", route), ("result", performed ? "performed" : "budget_exhausted")]).increment()
    }

    /// Publishes backend health as gauges; called before each scrape.
    func publish(health: [BackendHealth.Snapshot]) {
        for backend in health {
            registry.makeGauge(descriptor: .init(metricName: "llmesh_backend_ejected", unitName: "", helpText: "1 while a backend is ejected by outlier detection."), labels: [("backend", backend.backend)]).set(to: backend.ejected ? 1.0 : 0.0)
            registry.makeGauge(descriptor: .init(metricName: "llmesh_backend_in_flight", unitName: "", helpText: "Requests in flight to a backend."), labels: [("backend", backend.backend)]).set(to: Double(backend.inFlight))
        }
    }

    /// Counts a guardrail match.
    func recordGuardrail(policy: String, rule: String, action: String) {
        registry.makeCounter(descriptor: .init(metricName: "llmesh_guardrail_findings_total", unitName: "", helpText: "Guardrail matches by policy, rule and action."), labels: [("policy", policy), ("rule", rule), ("action", action)]).increment()
    }

    /// Counts a request refused by a limit or budget.
    func recordLimitRefusal(subject: String, kind: String) {
        registry.makeCounter(descriptor: .init(metricName: "llmesh_limit_refusals_total", unitName: "", helpText: "Requests refused by rate limits and budgets."), labels: [("subject", subject), ("limit", kind)]).increment()
    }

    /// Counts a failed call to the global limit store.
    func recordStoreError(operation: String) {
        registry.makeCounter(descriptor: .init(metricName: "llmesh_limit_store_errors_total", unitName: "", helpText: "Failed calls to the global limit store."), labels: [("operation", operation)]).increment()
    }

    /// Publishes spend per key and policy; called before each scrape.
    func publish(spend: [SpendRecord]) {
        for record in spend {
            registry.makeGauge(descriptor: .init(metricName: "llmesh_spend_usd", unitName: "", helpText: "Spend in the current budget window."), labels: [("subject", record.subject)]).set(to: record.spentUSD)
            registry.makeGauge(descriptor: .init(metricName: "llmesh_budget_usd", unitName: "", helpText: "Budget of the current window."), labels: [("subject", record.subject)]).set(to: record.budget.usd)
        }
    }

    /// Records one config reload attempt.
    public func recordReload(success: Bool, version: Int) {
        reloadCounter(success: success).increment()
        registry.makeGauge(descriptor: .init(metricName: "llmesh_config_version", unitName: "", helpText: "Version of the policy in force.")).set(Double(version))
    }

    private func reloadCounter(success: Bool) -> Counter {
        registry.makeCounter(descriptor: .init(metricName: "llmesh_config_reloads_total", unitName: "", helpText: "Config reload attempts."), labels: [("result", success ? "success" : "failure")])
    }

    /// Tracks requests being served right now.
    public func inFlight(_ delta: Int) {
        inFlightGauge.increment(by: Double(delta))
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
