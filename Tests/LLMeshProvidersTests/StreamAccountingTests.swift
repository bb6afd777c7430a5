import LLMeshModel
import Testing
@testable import LLMeshProviders

@Suite struct StreamAccountingTests {
    func run(_ text: String, kind: APIKind, hide: Bool) -> (output: String, accounting: StreamAccounting) {
        var decoder = SSEDecoder()
        var accounting = StreamAccounting(kind: kind, hideInjectedUsage: hide)
        var output: [UInt8] = []
        for item in decoder.feed(Array(text.utf8)) {
            if case .event(let event) = item, let bytes = accounting.process(event) { output += bytes }
        }
        return (String(decoding: output, as: UTF8.self), accounting)
    }

    static let openAIStreamWithUsage = """
        data: {"id":"1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}

        data: {"usage":null,"id":"1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

        data: {"id":"1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}}

        data: [DONE]


        """

    @Test func hidesInjectedUsageSoTheCallerSeesItsOwnStream() {
        let (output, accounting) = run(Self.openAIStreamWithUsage, kind: .chatCompletions, hide: true)
        #expect(accounting.usage == TokenUsage(input: 12, output: 3, cachedInput: 4))
        #expect(accounting.sawEnd)
        #expect(!output.contains("usage"))
        #expect(output.contains(#"data: {"id":"1","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#))
        #expect(output.contains(#"data: {"id":"1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#))
        #expect(output.hasSuffix("data: [DONE]\n\n"))
    }

    @Test func dropsATrailingNullUsageWithoutParsingAndLeavesOtherShapesToTheParser() {
        func drop(_ text: String) -> String? { StreamAccounting.droppingTrailingNullUsage(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        #expect(drop(#"{"id":"1","choices":[],"usage":null}"#) == #"{"id":"1","choices":[]}"#)
        #expect(drop(#"{"id":"1","usage":null}"# + "\n") == #"{"id":"1"}"#)
        #expect(drop(#"{"id":"1", "usage": null}"#) == nil)
        #expect(drop(#"{"usage":null,"id":"1"}"#) == nil)
        #expect(drop(#"[1,"usage":null}"#) == nil)
        let (output, _) = run("data: {\"id\":\"1\", \"usage\": null}\n\n", kind: .chatCompletions, hide: true)
        #expect(output == "data: {\"id\":\"1\"}\n\n")
    }

    @Test func passesUsageThroughWhenTheCallerAskedForIt() {
        let (output, accounting) = run(Self.openAIStreamWithUsage, kind: .chatCompletions, hide: false)
        #expect(accounting.usage?.input == 12)
        #expect(output == Self.openAIStreamWithUsage.trimmingSuffixNewline())
    }

    @Test func readsAnthropicUsageAcrossEvents() {
        let text = """
            event: message_start
            data: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":0,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        let (output, accounting) = run(text, kind: .messages, hide: false)
        #expect(accounting.usage == TokenUsage(input: 15, output: 42, cachedInput: 5))
        #expect(accounting.sawEnd)
        #expect(output == text.trimmingSuffixNewline())
    }

    @Test func readsResponsesUsageFromTheCompletedEvent() {
        let text = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":7,\"output_tokens\":9,\"input_tokens_details\":{\"cached_tokens\":2}}}}\n\n"
        let (_, accounting) = run(text, kind: .responses, hide: false)
        #expect(accounting.usage == TokenUsage(input: 7, output: 9, cachedInput: 2))
    }

    @Test func survivesGarbageEvents() {
        let text = "data: {\"usage\": nope\n\ndata: \u{0}\u{1}\n\nevent: message_start\ndata: [\n\n"
        let (output, accounting) = run(text, kind: .chatCompletions, hide: true)
        #expect(accounting.usage == nil)
        #expect(output.contains("nope"))
    }

    @Test func pricesUsage() {
        let usage = TokenUsage(input: 1_000_000, output: 500_000, cachedInput: 200_000)
        let pricing = ModelPricing(inputPerMillion: 1, outputPerMillion: 4, cachedInputPerMillion: 0.5)
        #expect(abs(usage.cost(at: pricing) - (0.8 + 0.1 + 2.0)) < 1e-9)
        #expect(usage.cost(at: nil) == 0)
        #expect(TokenUsage(input: 10).cost(at: ModelPricing(inputPerMillion: 1_000_000, outputPerMillion: 0)) == 10)
    }

    @Test func readsEveryUsageShape() {
        func usage(_ json: String, _ kind: APIKind = .chatCompletions) -> TokenUsage? { UsageReader.usage(inResponse: Array(json.utf8), kind: kind) }
        #expect(usage(#"{"usage":{"prompt_tokens":3,"completion_tokens":4}}"#) == TokenUsage(input: 3, output: 4))
        #expect(usage(#"{"usage":{"prompt_tokens":5,"total_tokens":5}}"#, .embeddings) == TokenUsage(input: 5))
        #expect(usage(#"{"usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":2,"cache_creation_input_tokens":1}}"#, .messages) == TokenUsage(input: 6, output: 4, cachedInput: 2))
        #expect(usage(#"{"input_tokens":17}"#, .countTokens) == TokenUsage(input: 17))
        #expect(usage(#"{"usage":null}"#) == nil)
        #expect(usage("garbage") == nil)
    }
}

extension String {
    func trimmingSuffixNewline() -> String { hasSuffix("\n\n\n") ? String(dropLast()) : self }
}
