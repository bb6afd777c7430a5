import Testing
@testable import LLMeshProviders

@Suite struct BedrockUsageTests {
    static func event(_ type: String, _ json: String) -> AWSEventStreamMessage {
        AWSEventStreamMessage(raw: [], headers: [":message-type": .string("event"), ":event-type": .string(type)], payload: Array(json.utf8))
    }

    static func chunk(_ json: String) -> AWSEventStreamMessage {
        event("chunk", #"{"bytes":"\#(Base64Text.encode(Array(json.utf8)))","p":"abc"}"#)
    }

    @Test func converseBodyCountsCacheReadsAndWritesAsInput() {
        let body = #"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":45,"cacheReadInputTokens":20,"cacheWriteInputTokens":10},"metrics":{"latencyMs":300}}"#
        #expect(BedrockUsage.usage(inConverseResponse: Array(body.utf8)) == TokenUsage(input: 40, output: 5, cachedInput: 20))
        #expect(BedrockUsage.usage(inConverseResponse: Array(#"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}"#.utf8)) == TokenUsage(input: 3, output: 4))
        #expect(BedrockUsage.usage(inConverseResponse: Array("not json".utf8)) == nil)
        #expect(BedrockUsage.usage(inConverseResponse: Array(#"{"usage":"x"}"#.utf8)) == nil)
    }

    @Test func invokeHeaders() {
        let headers = [("X-Amzn-Bedrock-Input-Token-Count", "12"), ("x-amzn-bedrock-output-token-count", " 7 "), ("x-amzn-bedrock-cache-read-input-token-count", "100")]
        #expect(BedrockUsage.usage(inInvokeHeaders: headers) == TokenUsage(input: 112, output: 7, cachedInput: 100))
        #expect(BedrockUsage.usage(inInvokeHeaders: [("x-amzn-bedrock-input-token-count", "abc"), ("x-amzn-bedrock-output-token-count", "1")]) == nil)
        #expect(BedrockUsage.usage(inInvokeHeaders: []) == nil)
        let anthropicBody = Array(#"{"type":"message","usage":{"input_tokens":5,"output_tokens":2}}"#.utf8)
        #expect(BedrockUsage.usage(inInvokeResponse: anthropicBody, headers: []) == TokenUsage(input: 5, output: 2))
    }

    @Test func converseStreamUsageAndEnd() {
        var accounting = BedrockStreamAccounting()
        accounting.process(Self.event("messageStart", #"{"role":"assistant"}"#))
        accounting.process(Self.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#))
        accounting.process(Self.event("messageStop", #"{"stopReason":"end_turn"}"#))
        #expect(!accounting.sawEnd)
        accounting.process(Self.event("metadata", #"{"usage":{"inputTokens":12,"outputTokens":4,"totalTokens":16,"cacheReadInputTokens":8},"metrics":{"latencyMs":120}}"#))
        #expect(accounting.sawEnd)
        #expect(accounting.usage == TokenUsage(input: 20, output: 4, cachedInput: 8))
        #expect(accounting.sawException == nil)
    }

    @Test func converseStreamFromEncodedFrames() throws {
        let bytes = AWSEventStreamEncoder.event(type: "messageStop", payload: Array(#"{"stopReason":"end_turn"}"#.utf8))
            + AWSEventStreamEncoder.event(type: "metadata", payload: Array(#"{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}"#.utf8))
        var decoder = AWSEventStreamDecoder()
        var accounting = BedrockStreamAccounting()
        for message in try decoder.feed(bytes) { accounting.process(message) }
        #expect(accounting.sawEnd && accounting.usage == TokenUsage(input: 1, output: 2))
    }

    @Test func invokeStreamPrefersInvocationMetrics() {
        var accounting = BedrockStreamAccounting()
        accounting.process(Self.chunk(#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":9,"output_tokens":1}}}"#))
        #expect(accounting.usage == TokenUsage(input: 9, output: 1))
        accounting.process(Self.chunk(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#))
        accounting.process(Self.chunk(#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}"#))
        #expect(accounting.usage == TokenUsage(input: 9, output: 6))
        #expect(!accounting.sawEnd)
        accounting.process(Self.chunk(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":7,"invocationLatency":500,"firstByteLatency":200,"cacheReadInputTokenCount":30,"cacheWriteInputTokenCount":4}}"#))
        #expect(accounting.sawEnd)
        #expect(accounting.usage == TokenUsage(input: 43, output: 7, cachedInput: 30))
    }

    @Test func invokeStreamAnthropicNativeWithoutMetrics() {
        var accounting = BedrockStreamAccounting()
        accounting.process(Self.chunk(#"{"type":"message_start","message":{"usage":{"input_tokens":3,"cache_read_input_tokens":10,"output_tokens":1}}}"#))
        accounting.process(Self.chunk(#"{"type":"message_delta","usage":{"output_tokens":5}}"#))
        accounting.process(Self.chunk(#"{"type":"message_stop"}"#))
        #expect(accounting.sawEnd)
        #expect(accounting.usage == TokenUsage(input: 13, output: 5, cachedInput: 10))
    }

    @Test func exceptionsAndGarbage() {
        var accounting = BedrockStreamAccounting()
        accounting.process(Self.event("chunk", #"{"bytes":"%%%"}"#))
        accounting.process(Self.event("chunk", "not json"))
        accounting.process(Self.event("metadata", "{"))
        #expect(accounting.usage == nil && !accounting.sawEnd)
        var decoder = AWSEventStreamDecoder()
        let messages = (try? decoder.feed(AWSEventStreamEncoder.exception(type: "modelStreamErrorException", message: "boom"))) ?? []
        for message in messages { accounting.process(message) }
        #expect(accounting.sawException == "modelStreamErrorException")
        var errors = BedrockStreamAccounting()
        errors.process(AWSEventStreamMessage(raw: [], headers: [":message-type": .string("error"), ":error-code": .string("InternalFailure")], payload: []))
        #expect(errors.sawException == "InternalFailure")
    }

    @Test func base64RoundTripAndRejects() {
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            #expect(Base64Text.decode(Base64Text.encode(bytes)) == bytes)
        }
        #expect(Base64Text.encode(Array("Man".utf8)) == "TWFu")
        #expect(Base64Text.encode(Array("Ma".utf8)) == "TWE=")
        #expect(Base64Text.decode("TWE") == nil)
        #expect(Base64Text.decode("T=E=") == nil)
        #expect(Base64Text.decode("TW!u") == nil)
    }
}
