import Testing
@testable import LLMeshProviders

/// Non-streamed answers and error answers, re-shaped for the caller.
@Suite struct TranslationResponseTests {
    func translate(_ json: String, _ from: WireSchema, _ to: WireSchema) throws -> (body: JSONTree, usage: TokenUsage?) {
        let result = try ResponseTranslator.translate(Array(json.utf8), from: from, to: to, requestModel: "my-model", id: "resp-1", created: 1_700_000_000)
        return (try JSONTree(parsing: result.body), result.usage)
    }

    static let anthropicAnswer = #"""
    {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4","content":[
      {"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris","days":[1,2]}}],
     "stop_reason":"tool_use","stop_sequence":null,
     "usage":{"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":40}}
    """#

    @Test func anthropicToOpenAI() throws {
        let (body, usage) = try translate(Self.anthropicAnswer, .anthropicMessages, .openAIChat)
        #expect(body["id"] == "resp-1" && body["object"] == "chat.completion" && body["created"] == 1_700_000_000)
        #expect(body["model"] == "my-model")
        let choice = try #require(body["choices"]?.arrayValue?.first)
        #expect(choice["index"] == 0 && choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["role"] == "assistant" && choice["message"]?["content"] == "Let me look.")
        let call = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "toolu_01" && call["type"] == "function" && call["function"]?["name"] == "get_weather")
        let arguments = try #require(call["function"]?["arguments"]?.stringValue)
        #expect(try JSONTree(parsing: Array(arguments.utf8)) == ["city": "Paris", "days": [1, 2]])
        #expect(body["usage"] == ["prompt_tokens": 420, "completion_tokens": 40, "total_tokens": 460, "prompt_tokens_details": ["cached_tokens": 300]])
        #expect(usage == TokenUsage(input: 420, output: 40, cachedInput: 300))
    }

    @Test(arguments: [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter")])
    func anthropicStopReasons(anthropic: String, openAI: String) throws {
        let answer = #"{"id":"m","type":"message","role":"assistant","content":[],"stop_reason":"\#(anthropic)","usage":{"input_tokens":1,"output_tokens":0}}"#
        let body = try translate(answer, .anthropicMessages, .openAIChat).body
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == openAI)
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == .null)
    }

    static let converseAnswer = #"""
    {"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"think","signature":"s1"}}},
      {"text":"Sure."},{"toolUse":{"toolUseId":"tooluse_1","name":"lookup","input":{"q":"x"}}}]}},
     "stopReason":"tool_use","usage":{"inputTokens":30,"outputTokens":12,"totalTokens":52,"cacheReadInputTokens":10},"metrics":{"latencyMs":420}}
    """#

    @Test func converseToOpenAI() throws {
        let (body, usage) = try translate(Self.converseAnswer, .bedrockConverse, .openAIChat)
        let message = try #require(body["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == "Sure.")
        #expect(message["tool_calls"]?.arrayValue?.first?["id"] == "tooluse_1")
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(body["usage"]?["prompt_tokens"] == 40 && body["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 10)
        #expect(usage == TokenUsage(input: 40, output: 12, cachedInput: 10))
    }

    @Test func converseToAnthropic() throws {
        let (body, _) = try translate(Self.converseAnswer, .bedrockConverse, .anthropicMessages)
        #expect(body["id"] == "resp-1" && body["type"] == "message" && body["role"] == "assistant" && body["model"] == "my-model")
        #expect(body["content"] == [
            ["type": "thinking", "thinking": "think", "signature": "s1"],
            ["type": "text", "text": "Sure."],
            ["type": "tool_use", "id": "tooluse_1", "name": "lookup", "input": ["q": "x"]],
        ])
        #expect(body["stop_reason"] == "tool_use" && body["stop_sequence"] == .null)
        #expect(body["usage"] == ["input_tokens": 30, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 12])
    }

    @Test(arguments: [("end_turn", "end_turn"), ("max_tokens", "max_tokens"), ("stop_sequence", "stop_sequence"), ("guardrail_intervened", "refusal"), ("content_filtered", "refusal"), ("malformed_tool_use", "end_turn")])
    func converseStopReasons(converse: String, anthropic: String) throws {
        let answer = #"{"output":{"message":{"role":"assistant","content":[{"text":"x"}]}},"stopReason":"\#(converse)","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"#
        #expect(try translate(answer, .bedrockConverse, .anthropicMessages).body["stop_reason"]?.stringValue == anthropic)
    }

    static let openAIAnswer = #"""
    {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,
      "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"call_2","type":"function","function":{"name":"g","arguments":""}}]},
      "logprobs":null,"finish_reason":"tool_calls"}],
     "usage":{"prompt_tokens":50,"completion_tokens":9,"total_tokens":59,"prompt_tokens_details":{"cached_tokens":32}}}
    """#

    @Test func openAIToAnthropic() throws {
        let (body, usage) = try translate(Self.openAIAnswer, .openAIChat, .anthropicMessages)
        #expect(body["content"] == [
            ["type": "tool_use", "id": "call_1", "name": "f", "input": ["a": 1]],
            ["type": "tool_use", "id": "call_2", "name": "g", "input": [:]],
        ])
        #expect(body["stop_reason"] == "tool_use")
        #expect(body["usage"] == ["input_tokens": 18, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 32, "output_tokens": 9])
        #expect(usage == TokenUsage(input: 50, output: 9, cachedInput: 32))
        let text = #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"length"}]}"#
        let plain = try translate(text, .openAIChat, .anthropicMessages).body
        #expect(plain["content"] == [["type": "text", "text": "Hello"]] && plain["stop_reason"] == "max_tokens")
        #expect(plain["usage"]?["input_tokens"] == 0)
    }

    @Test func badUpstreamAnswersFailWith502() {
        let cases: [(String, WireSchema)] = [
            ("not json", .anthropicMessages), ("[1]", .bedrockConverse), (#"{"choices":[]}"#, .openAIChat),
            (#"{"choices":[{"message":{"tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1"}}]}}]}"#, .openAIChat),
            (#"{"content":[{"type":"tool_use"}]}"#, .anthropicMessages),
        ]
        for (body, source) in cases {
            let target: WireSchema = source == .openAIChat ? .anthropicMessages : .openAIChat
            #expect(throws: SidecarError.self) { try translate(body, source, target) }
            do {
                _ = try translate(body, source, target)
            } catch let error as SidecarError {
                #expect(error.status == 502 && error.code == .upstreamProtocolError)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func sameSchemaPassesThroughWithUsage() throws {
        let result = try ResponseTranslator.translate(Array(Self.openAIAnswer.utf8), from: .openAIChat, to: .openAIChat, requestModel: "x", id: "y", created: 0)
        #expect(result.body == Array(Self.openAIAnswer.utf8))
        #expect(result.usage == TokenUsage(input: 50, output: 9, cachedInput: 32))
    }

    func error(_ status: Int, _ headers: [(String, String)] = [], _ body: String, _ from: WireSchema, _ to: WireSchema) throws -> JSONTree {
        try JSONTree(parsing: ResponseTranslator.translateError(status: status, headers: headers, body: Array(body.utf8), from: from, to: to))
    }

    @Test func bedrockErrorsKeepTheMessageAndMapTheType() throws {
        let headers = [("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")]
        let body = #"{"message":"Too many requests, please wait before trying again."}"#
        let openAI = try error(429, headers, body, .bedrockConverse, .openAIChat)
        #expect(openAI["error"]?["message"] == "Too many requests, please wait before trying again.")
        #expect(openAI["error"]?["type"] == "rate_limit_error" && openAI["error"]?["code"] == "ThrottlingException")
        #expect(openAI["error"]?["param"] == .null)
        let anthropic = try error(429, headers, body, .bedrockConverse, .anthropicMessages)
        #expect(anthropic == ["type": "error", "error": ["type": "rate_limit_error", "message": "Too many requests, please wait before trying again."]])
        let validation = try error(400, [], #"{"message":"Malformed input request","__type":"com.amazon.coral.validate#ValidationException"}"#, .bedrockConverse, .anthropicMessages)
        #expect(validation["error"]?["type"] == "invalid_request_error")
        let unavailable = try error(503, [("x-amzn-errortype", "ServiceUnavailableException")], #"{"Message":"Busy"}"#, .bedrockConverse, .anthropicMessages)
        #expect(unavailable["error"] == ["type": "overloaded_error", "message": "Busy"])
    }

    @Test func anthropicAndOpenAIErrorsCrossOver() throws {
        let overloaded = try error(529, [], #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, .anthropicMessages, .openAIChat)
        #expect(overloaded["error"]?["message"] == "Overloaded" && overloaded["error"]?["type"] == "api_error" && overloaded["error"]?["code"] == "overloaded_error")
        let badKey = try error(401, [], #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#, .openAIChat, .anthropicMessages)
        #expect(badKey["error"] == ["type": "authentication_error", "message": "Incorrect API key provided"])
        let notFound = try error(404, [], #"{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}"#, .openAIChat, .anthropicMessages)
        #expect(notFound["error"]?["message"] == "The model does not exist")
        let bedrock = try error(429, [], #"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#, .anthropicMessages, .bedrockConverse)
        #expect(bedrock == ["message": "slow down", "__type": "ThrottlingException"])
    }

    @Test func unparseableErrorBodiesStillGiveAnError() throws {
        let html = try error(502, [], "<html>Bad Gateway</html>", .openAIChat, .anthropicMessages)
        #expect(html["error"]?["type"] == "api_error")
        #expect(html["error"]?["message"]?.stringValue?.contains("502") == true)
        let empty = try error(504, [], "", .bedrockConverse, .openAIChat)
        #expect(empty["error"]?["message"] == "The upstream answered HTTP 504.")
        #expect(empty["error"]?["type"] == "api_error")
    }
}
