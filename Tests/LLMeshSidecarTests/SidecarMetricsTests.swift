import LLMeshProviders
import Testing
@testable import LLMeshSidecar

@Suite struct SidecarMetricsTests {
    @Test func exposesGenAIMetricsWithTheirLabels() {
        let metrics = SidecarMetrics()
        let record = SidecarMetrics.RequestRecord(operation: "chat", provider: "openai", requestModel: "fast", responseModel: "gpt", status: 200, errorType: nil, usage: TokenUsage(input: 10, output: 5, cachedInput: 2), costUSD: 0.25, duration: .milliseconds(120), timeToFirstToken: .milliseconds(30), overhead: .microseconds(40))
        metrics.record(record)
        metrics.record(record)
        var failed = record
        failed.status = 504
        failed.errorType = "upstream_timeout"
        failed.usage = nil
        metrics.record(failed)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"gen_ai_client_token_usage_sum{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="fast",gen_ai_token_type="input"} 20"#))
        #expect(text.contains(#"gen_ai_server_request_duration_seconds_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="fast"} 2"#))
        #expect(text.contains(#"gen_ai_server_request_duration_seconds_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="fast",error_type="upstream_timeout"} 1"#))
        #expect(text.contains(#"llmesh_requests_total{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="fast",http_response_status_code="504",error_type="upstream_timeout"} 1"#))
        #expect(text.contains("llmesh_sidecar_overhead_seconds_count 3"))
        #expect(text.contains(#"llmesh_cost_usd_total{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="fast"} 0.75"#))
        #expect(text.contains(#"gen_ai_server_time_to_first_token_seconds_count{"#))
    }
}
