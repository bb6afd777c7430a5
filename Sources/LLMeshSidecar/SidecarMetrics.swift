import LLMeshProviders
import Prometheus

/// The sidecar's Prometheus metrics, named after the OpenTelemetry GenAI semantic conventions.
public final class SidecarMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    private static let tokenBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864]
    private static let durationBuckets: [Duration] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92].map { .milliseconds(Int64($0 * 1000)) }
    private static let firstTokenBuckets: [Duration] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0].map { .microseconds(Int64($0 * 1_000_000)) }
    private static let overheadBuckets: [Duration] = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000].map { .microseconds($0) }

    public init() {
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

    public func record(_ request: RequestRecord) {
        let base = [
            ("gen_ai_operation_name", request.operation),
            ("gen_ai_provider_name", request.provider),
            ("gen_ai_request_model", request.requestModel),
        ]
        var durationLabels = base
        if let errorType = request.errorType { durationLabels.append(("error_type", errorType)) }
        registry.makeDurationHistogram(descriptor: .init(metricName: "gen_ai_server_request_duration_seconds", unitName: "", helpText: "Time from request received to response finished."), labels: durationLabels, buckets: Self.durationBuckets).record(request.duration)
        registry.makeCounter(descriptor: .init(metricName: "llmesh_requests_total", unitName: "", helpText: "Requests by HTTP status."), labels: base + [("http_response_status_code", String(request.status)), ("error_type", request.errorType ?? "")]).increment()
        registry.makeDurationHistogram(descriptor: .init(metricName: "llmesh_sidecar_overhead_seconds", unitName: "", helpText: "Time spent in the sidecar itself, excluding the wait for the upstream."), labels: [], buckets: Self.overheadBuckets).record(request.overhead)
        if let ttft = request.timeToFirstToken {
            registry.makeDurationHistogram(descriptor: .init(metricName: "gen_ai_server_time_to_first_token_seconds", unitName: "", helpText: "Time from request received to the first response byte."), labels: base, buckets: Self.firstTokenBuckets).record(ttft)
        }
        if let usage = request.usage {
            for (type, count) in [("input", usage.input), ("output", usage.output)] {
                registry.makeValueHistogram(descriptor: .init(metricName: "gen_ai_client_token_usage", unitName: "", helpText: "Tokens used per request."), labels: base + [("gen_ai_token_type", type)], buckets: Self.tokenBuckets).record(Double(count))
            }
            registry.makeCounter(descriptor: .init(metricName: "llmesh_tokens_total", unitName: "", helpText: "Tokens used."), labels: base + [("gen_ai_token_type", "cached_input")]).increment(by: Int64(usage.cachedInput))
        }
        if request.costUSD > 0 {
            registry.makeCounter(descriptor: .init(metricName: "llmesh_cost_usd_total", unitName: "", helpText: "Cost of requests in US dollars."), labels: base).increment(by: request.costUSD)
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
        registry.makeGauge(descriptor: .init(metricName: "llmesh_requests_in_flight", unitName: "", helpText: "Requests being served.")).increment(by: Double(delta))
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
