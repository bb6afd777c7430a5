import Testing
@testable import LLMeshProviders

/// What an OpenAI SDK makes of a chunk stream: it reads `data:` lines until `[DONE]` and merges deltas by index.
struct OpenAIStreamAccumulator {
    var roleSeen = false
    var content = ""
    var toolCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    var finishReason: String?
    var usage: JSONTree?
    var done = false
    var error: JSONTree?
    var problems: [String] = []

    init(_ bytes: [UInt8]) {
        var decoder = SSEDecoder()
        for item in decoder.feed(bytes) {
            guard case .event(let event) = item else { continue }
            if event.name != nil { problems.append("named event \(event.name ?? "")") }
            if done { problems.append("data after [DONE]") }
            if event.data.elementsEqual("[DONE]".utf8) {
                done = true
                continue
            }
            guard let chunk = try? JSONTree(parsing: event.data) else {
                problems.append("not JSON")
                continue
            }
            if let failure = chunk["error"] {
                error = failure
                continue
            }
            if chunk["object"] != "chat.completion.chunk" { problems.append("object") }
            if chunk["id"]?.stringValue == nil || chunk["created"]?.intValue == nil || chunk["model"]?.stringValue == nil { problems.append("header fields") }
            if let counts = chunk["usage"], !counts.isNull {
                usage = counts
                if chunk["choices"] != [] { problems.append("usage chunk with choices") }
            }
            for choice in chunk["choices"]?.arrayValue ?? [] {
                let delta = choice["delta"]
                if delta?["role"] == "assistant" { roleSeen = true }
                if let text = delta?["content"]?.stringValue {
                    if !roleSeen { problems.append("content before role") }
                    content += text
                }
                for call in delta?["tool_calls"]?.arrayValue ?? [] {
                    guard let index = call["index"]?.intValue else {
                        problems.append("tool call without index")
                        continue
                    }
                    var entry = toolCalls[index] ?? (id: "", name: "", arguments: "")
                    if let id = call["id"]?.stringValue {
                        if call["type"] != "function" { problems.append("first tool delta without type") }
                        entry.id = id
                    }
                    if let name = call["function"]?["name"]?.stringValue { entry.name += name }
                    if let piece = call["function"]?["arguments"]?.stringValue { entry.arguments += piece }
                    if entry.id.isEmpty { problems.append("tool call without id") }
                    toolCalls[index] = entry
                }
                if let reason = choice["finish_reason"]?.stringValue {
                    if finishReason != nil { problems.append("two finish reasons") }
                    finishReason = reason
                }
            }
        }
        if !decoder.finish().isEmpty { problems.append("unterminated event") }
    }

    func arguments(_ index: Int) -> JSONTree? {
        toolCalls[index].flatMap { try? JSONTree(parsing: Array($0.arguments.utf8)) }
    }
}

/// What an Anthropic SDK makes of an event stream, checking the ordering rules its accumulator relies on.
struct AnthropicStreamAccumulator {
    var message: JSONTree?
    var blocks: [(type: String, text: String, json: String, start: JSONTree)] = []
    var openIndex: Int?
    var stopReason: String?
    var usage: JSONTree?
    var stopped = false
    var error: JSONTree?
    var problems: [String] = []

    init(_ bytes: [UInt8]) {
        var decoder = SSEDecoder()
        for item in decoder.feed(bytes) {
            guard case .event(let event) = item, let name = event.name else {
                problems.append("event without a name")
                continue
            }
            guard let data = try? JSONTree(parsing: event.data) else {
                problems.append("not JSON")
                continue
            }
            if data["type"]?.stringValue != name { problems.append("type \(data["type"]?.stringValue ?? "nil") under event \(name)") }
            if stopped { problems.append("\(name) after message_stop") }
            if name != "message_start", name != "error", message == nil { problems.append("\(name) before message_start") }
            let index = data["index"]?.intValue ?? -1
            switch name {
            case "message_start":
                if message != nil { problems.append("two message_start") }
                message = data["message"]
                if data["message"]?["usage"]?["input_tokens"]?.intValue == nil { problems.append("message_start without usage") }
                if data["message"]?["content"] != [] { problems.append("message_start content") }
            case "content_block_start":
                if openIndex != nil { problems.append("block \(index) started while \(openIndex ?? -1) open") }
                if index != blocks.count { problems.append("block index \(index), expected \(blocks.count)") }
                let block = data["content_block"] ?? nil
                blocks.append((block["type"]?.stringValue ?? "?", block["text"]?.stringValue ?? "", "", block))
                openIndex = index
            case "content_block_delta":
                guard index == openIndex, blocks.indices.contains(index) else {
                    problems.append("delta for block \(index) not open")
                    continue
                }
                let delta = data["delta"]
                switch delta?["type"]?.stringValue {
                case "text_delta":
                    if blocks[index].type != "text" { problems.append("text_delta in \(blocks[index].type)") }
                    blocks[index].text += delta?["text"]?.stringValue ?? ""
                case "input_json_delta":
                    if blocks[index].type != "tool_use" { problems.append("input_json_delta in \(blocks[index].type)") }
                    blocks[index].json += delta?["partial_json"]?.stringValue ?? ""
                case "thinking_delta":
                    blocks[index].text += delta?["thinking"]?.stringValue ?? ""
                case "signature_delta":
                    continue
                default:
                    problems.append("unknown delta")
                }
            case "content_block_stop":
                if index != openIndex { problems.append("stop for block \(index) not open") }
                openIndex = nil
            case "message_delta":
                if openIndex != nil { problems.append("message_delta with a block open") }
                stopReason = data["delta"]?["stop_reason"]?.stringValue
                usage = data["usage"]
                if data["usage"]?["output_tokens"]?.intValue == nil { problems.append("message_delta without output_tokens") }
            case "message_stop":
                if stopReason == nil { problems.append("message_stop before message_delta") }
                stopped = true
            case "error":
                error = data["error"]
            default:
                problems.append("unknown event \(name)")
            }
        }
    }

    func input(_ index: Int) -> JSONTree? {
        guard blocks.indices.contains(index) else { return nil }
        return try? JSONTree(parsing: Array(blocks[index].json.utf8))
    }
}

/// Feeding helpers: raw upstream bytes through the real decoders, split where asked.
enum StreamFeeding {
    static func sse(_ text: String, splits: [Int] = [], into translator: inout StreamTranslator) -> [UInt8] {
        let bytes = Array(text.utf8)
        var decoder = SSEDecoder()
        var output: [UInt8] = []
        var start = 0
        for cut in splits.filter({ $0 > 0 && $0 < bytes.count }) + [bytes.count] where cut >= start {
            for item in decoder.feed(bytes[start..<cut]) {
                if case .event(let event) = item { output += translator.feed(event) }
            }
            start = cut
        }
        return output + translator.finish()
    }

    static func eventStream(_ bytes: [UInt8], splits: [Int] = [], into translator: inout StreamTranslator) throws -> [UInt8] {
        var decoder = AWSEventStreamDecoder()
        var output: [UInt8] = []
        var start = 0
        for cut in splits.filter({ $0 > 0 && $0 < bytes.count }) + [bytes.count] where cut >= start {
            for message in try decoder.feed(bytes[start..<cut]) { output += translator.feed(message) }
            start = cut
        }
        return output + translator.finish()
    }
}

@Suite struct TranslationStreamTests {
    static func sseEvent(_ name: String, _ json: String) -> String { "event: \(name)\ndata: \(json)\n\n" }

    static let anthropicStream: String = [
        sseEvent("message_start", #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"cache_creation_input_tokens":0,"output_tokens":1}}}"#),
        sseEvent("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        sseEvent("ping", #"{"type": "ping"}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" wörld 🦙"}}"#),
        sseEvent("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        sseEvent("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\", \"unit\""}}"#),
        sseEvent("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":": \"c\"}"}}"#),
        sseEvent("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        sseEvent("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}"#),
        sseEvent("message_stop", #"{"type":"message_stop"}"#),
    ].joined()

    static func translator(_ from: WireSchema, _ to: WireSchema, includeUsage: Bool = true) -> StreamTranslator {
        StreamTranslator(from: from, to: to, requestModel: "my-model", includeUsage: includeUsage, id: "chatcmpl-1", created: 1_700_000_000)
    }

    @Test func anthropicToOpenAI() throws {
        var translator = Self.translator(.anthropicMessages, .openAIChat)
        let output = StreamFeeding.sse(Self.anthropicStream, into: &translator)
        let result = OpenAIStreamAccumulator(output)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.content == "Hello wörld 🦙")
        #expect(result.toolCalls[0]?.id == "toolu_01" && result.toolCalls[0]?.name == "get_weather")
        #expect(result.arguments(0) == ["city": "Paris", "unit": "c"])
        #expect(result.finishReason == "tool_calls")
        #expect(result.usage == ["prompt_tokens": 30, "completion_tokens": 30, "total_tokens": 60, "prompt_tokens_details": ["cached_tokens": 5]])
        #expect(result.done && result.error == nil)
        #expect(translator.sawEnd && translator.failure == nil)
        #expect(translator.usage == TokenUsage(input: 30, output: 30, cachedInput: 5))
        #expect(translator.finish().isEmpty)
    }

    @Test func anthropicToOpenAIWithoutUsageChunkAndAtEverySplit() {
        var reference = Self.translator(.anthropicMessages, .openAIChat, includeUsage: false)
        let expected = StreamFeeding.sse(Self.anthropicStream, into: &reference)
        let result = OpenAIStreamAccumulator(expected)
        #expect(result.usage == nil && result.done && result.problems.isEmpty)
        #expect(reference.usage?.output == 30)
        let length = Array(Self.anthropicStream.utf8).count
        for cut in stride(from: 1, to: length, by: 7) {
            var translator = Self.translator(.anthropicMessages, .openAIChat, includeUsage: false)
            #expect(StreamFeeding.sse(Self.anthropicStream, splits: [cut, cut + 3, cut + 50], into: &translator) == expected, "cut \(cut)")
        }
    }

    @Test func anthropicToolWithoutArgumentsGetsAnEmptyObject() {
        let stream = [
            Self.sseEvent("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#),
            Self.sseEvent("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_2","name":"now","input":{}}}"#),
            Self.sseEvent("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            Self.sseEvent("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}"#),
            Self.sseEvent("message_stop", #"{"type":"message_stop"}"#),
        ].joined()
        var translator = Self.translator(.anthropicMessages, .openAIChat)
        let result = OpenAIStreamAccumulator(StreamFeeding.sse(stream, into: &translator))
        #expect(result.arguments(0) == [:])
        #expect(result.content.isEmpty && result.roleSeen)
    }

    static var converseStream: [UInt8] {
        func event(_ type: String, _ json: String) -> [UInt8] { AWSEventStreamEncoder.event(type: type, payload: Array(json.utf8)) }
        return event("messageStart", #"{"role":"assistant"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Let me "},"p":"abcdefgh"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"check."}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":0}"#)
            + event("contentBlockStart", #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_X1","name":"get_weather"}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":" \"Paris\"}"}}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":1}"#)
            + event("messageStop", #"{"stopReason":"tool_use"}"#)
            + event("metadata", #"{"usage":{"inputTokens":40,"outputTokens":18,"totalTokens":88,"cacheReadInputTokens":30},"metrics":{"latencyMs":512}}"#)
    }

    @Test func converseToOpenAIAtAwkwardSplits() throws {
        let bytes = Self.converseStream
        var reference = Self.translator(.bedrockConverse, .openAIChat)
        let expected = try StreamFeeding.eventStream(bytes, into: &reference)
        let result = OpenAIStreamAccumulator(expected)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.content == "Let me check.")
        #expect(result.toolCalls[0]?.id == "tooluse_X1")
        #expect(result.arguments(0) == ["city": "Paris"])
        #expect(result.finishReason == "tool_calls")
        #expect(result.usage?["prompt_tokens"] == 70 && result.usage?["completion_tokens"] == 18)
        #expect(result.usage?["prompt_tokens_details"]?["cached_tokens"] == 30)
        #expect(result.done)
        #expect(reference.sawEnd && reference.usage == TokenUsage(input: 70, output: 18, cachedInput: 30))
        for cut in stride(from: 1, to: bytes.count, by: 5) {
            var translator = Self.translator(.bedrockConverse, .openAIChat)
            #expect(try StreamFeeding.eventStream(bytes, splits: [cut, cut + 1, cut + 13], into: &translator) == expected, "cut \(cut)")
        }
    }

    @Test func converseToAnthropic() throws {
        var translator = Self.translator(.bedrockConverse, .anthropicMessages)
        let result = AnthropicStreamAccumulator(try StreamFeeding.eventStream(Self.converseStream, into: &translator))
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.message?["model"] == "my-model" && result.message?["id"] == "chatcmpl-1" && result.message?["role"] == "assistant")
        #expect(result.blocks.map(\.type) == ["text", "tool_use"])
        #expect(result.blocks[0].text == "Let me check.")
        #expect(result.blocks[1].start["id"] == "tooluse_X1" && result.blocks[1].start["name"] == "get_weather")
        #expect(result.input(1) == ["city": "Paris"])
        #expect(result.stopReason == "tool_use")
        #expect(result.usage == ["input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 30, "output_tokens": 18])
        #expect(result.stopped && translator.sawEnd)
    }

    @Test func converseReasoningBecomesThinkingForAnthropic() throws {
        func event(_ type: String, _ json: String) -> [UInt8] { AWSEventStreamEncoder.event(type: type, payload: Array(json.utf8)) }
        let bytes = event("messageStart", #"{"role":"assistant"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Hmm."}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig=="}}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":0}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Yes."}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":1}"#)
            + event("messageStop", #"{"stopReason":"max_tokens"}"#)
            + event("metadata", #"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}"#)
        var anthropic = Self.translator(.bedrockConverse, .anthropicMessages)
        let result = AnthropicStreamAccumulator(try StreamFeeding.eventStream(bytes, into: &anthropic))
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.blocks.map(\.type) == ["thinking", "text"])
        #expect(result.blocks[0].text == "Hmm." && result.blocks[1].text == "Yes.")
        #expect(result.stopReason == "max_tokens")
        var openAI = Self.translator(.bedrockConverse, .openAIChat)
        let chunks = OpenAIStreamAccumulator(try StreamFeeding.eventStream(bytes, into: &openAI))
        #expect(chunks.content == "Yes." && chunks.finishReason == "length")
    }

    static let openAIStream: String = [
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"Sure, "},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"checking."},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Oslo\"}"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null}"#,
        #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[],"usage":{"prompt_tokens":60,"completion_tokens":22,"total_tokens":82,"prompt_tokens_details":{"cached_tokens":40}}}"#,
        "[DONE]",
    ].map { "data: \($0)\n\n" }.joined()

    @Test func openAIToAnthropicAtAwkwardSplits() {
        var reference = Self.translator(.openAIChat, .anthropicMessages)
        let expected = StreamFeeding.sse(Self.openAIStream, into: &reference)
        let result = AnthropicStreamAccumulator(expected)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.blocks.map(\.type) == ["text", "tool_use", "tool_use"])
        #expect(result.blocks[0].text == "Sure, checking.")
        #expect(result.blocks[1].start["id"] == "call_A" && result.blocks[1].start["name"] == "get_weather" && result.blocks[1].start["input"] == [:])
        #expect(result.input(1) == ["city": "Oslo"])
        #expect(result.blocks[2].start["id"] == "call_B" && result.input(2) == [:])
        #expect(result.stopReason == "tool_use")
        #expect(result.usage == ["input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 22])
        #expect(result.stopped && reference.sawEnd)
        #expect(reference.usage == TokenUsage(input: 60, output: 22, cachedInput: 40))
        let length = Array(Self.openAIStream.utf8).count
        for cut in stride(from: 1, to: length, by: 11) {
            var translator = Self.translator(.openAIChat, .anthropicMessages)
            #expect(StreamFeeding.sse(Self.openAIStream, splits: [cut, cut + 2], into: &translator) == expected, "cut \(cut)")
        }
    }

    @Test func openAIWithoutDoneIsClosedByFinish() {
        let stream = Self.openAIStream.replacingOccurrences(of: "data: [DONE]\n\n", with: "")
        var translator = Self.translator(.openAIChat, .anthropicMessages)
        let result = AnthropicStreamAccumulator(StreamFeeding.sse(stream, into: &translator))
        #expect(result.stopped && result.problems.isEmpty)
        #expect(translator.sawEnd)
    }

    @Test func bedrockExceptionBecomesACallerErrorEvent() throws {
        let bytes = Array(Self.converseStream.prefix(400))
        var decoder = AWSEventStreamDecoder()
        let complete = try decoder.feed(bytes)
        let stream = complete.map(\.raw).reduce([], +) + AWSEventStreamEncoder.exception(type: "throttlingException", message: "Too many tokens, please wait.")
            + AWSEventStreamEncoder.event(type: "messageStop", payload: Array(#"{"stopReason":"end_turn"}"#.utf8))
        var openAI = Self.translator(.bedrockConverse, .openAIChat)
        let chunks = OpenAIStreamAccumulator(try StreamFeeding.eventStream(stream, into: &openAI))
        #expect(chunks.error?["message"] == "Too many tokens, please wait.")
        #expect(chunks.error?["type"] == "rate_limit_error" && chunks.error?["code"] == "throttlingException")
        #expect(chunks.finishReason == nil && !chunks.done)
        #expect(openAI.failure?.message.contains("Too many tokens") == true && !openAI.sawEnd)
        var anthropic = Self.translator(.bedrockConverse, .anthropicMessages)
        let events = AnthropicStreamAccumulator(try StreamFeeding.eventStream(stream, into: &anthropic))
        #expect(events.error == ["type": "rate_limit_error", "message": "Too many tokens, please wait."])
        #expect(!events.stopped && anthropic.failure != nil)
    }

    @Test func anthropicAndOpenAIStreamErrors() {
        let anthropic = Self.sseEvent("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#)
            + Self.sseEvent("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        var toOpenAI = Self.translator(.anthropicMessages, .openAIChat)
        let chunks = OpenAIStreamAccumulator(StreamFeeding.sse(anthropic, into: &toOpenAI))
        #expect(chunks.error?["message"] == "Overloaded" && chunks.error?["code"] == "overloaded_error")
        #expect(toOpenAI.failure != nil && !toOpenAI.sawEnd)
        let openAI = #"data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"# + "\n\n"
        var toAnthropic = Self.translator(.openAIChat, .anthropicMessages)
        let events = AnthropicStreamAccumulator(StreamFeeding.sse(openAI, into: &toAnthropic))
        #expect(events.error == ["type": "api_error", "message": "The server had an error"])
        #expect(toAnthropic.failure?.code == .upstreamProtocolError)
    }

    @Test func malformedAndTruncatedStreamsFailCleanly() throws {
        var garbage = Self.translator(.anthropicMessages, .openAIChat)
        let chunks = OpenAIStreamAccumulator(StreamFeeding.sse("event: content_block_delta\ndata: {\"type\":\"content_bl\n\n", into: &garbage))
        #expect(chunks.error?["type"] == "api_error" && garbage.failure?.code == .upstreamProtocolError)
        #expect(garbage.feed(SSEEvent(raw: [], name: "message_stop", data: Array(#"{"type":"message_stop"}"#.utf8))).isEmpty)
        // A stream cut before its stop reason: nothing owed, no end seen, so the sidecar reports the truncation.
        let cut = Array(Self.anthropicStream.utf8.prefix(700))
        var truncated = Self.translator(.anthropicMessages, .openAIChat)
        _ = StreamFeeding.sse(String(decoding: cut, as: UTF8.self), into: &truncated)
        #expect(!truncated.sawEnd && truncated.failure == nil && truncated.finish().isEmpty)
        var converse = Self.translator(.bedrockConverse, .anthropicMessages)
        let partial = AnthropicStreamAccumulator(try StreamFeeding.eventStream(Array(Self.converseStream.prefix(250)), into: &converse))
        #expect(!partial.stopped && !converse.sawEnd)
        var notJSON = Self.translator(.bedrockConverse, .openAIChat)
        let failure = OpenAIStreamAccumulator(try StreamFeeding.eventStream(AWSEventStreamEncoder.event(type: "contentBlockDelta", payload: Array("{oops".utf8)), into: &notJSON))
        #expect(failure.error != nil && notJSON.failure != nil)
    }

    @Test func largeDeltasPassThrough() {
        let big = String(repeating: "x", count: 1_000_000)
        let stream = Self.sseEvent("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#)
            + Self.sseEvent("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(big)"}}"#)
            + Self.sseEvent("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#)
            + Self.sseEvent("message_stop", #"{"type":"message_stop"}"#)
        var translator = Self.translator(.anthropicMessages, .openAIChat)
        let result = OpenAIStreamAccumulator(StreamFeeding.sse(stream, into: &translator))
        #expect(result.content.count == 1_000_000 && result.finishReason == "stop" && result.done)
    }

    @Test func sameSchemaPassesEventsThroughAndReadsUsage() {
        var translator = Self.translator(.anthropicMessages, .anthropicMessages)
        let output = StreamFeeding.sse(Self.anthropicStream, into: &translator)
        #expect(output == Array(Self.anthropicStream.utf8))
        #expect(translator.sawEnd && translator.usage == TokenUsage(input: 30, output: 30, cachedInput: 5))
        var unsupported = Self.translator(.openAIChat, .bedrockConverse)
        #expect(unsupported.failure?.code == .untranslatable)
        #expect(StreamFeeding.sse(Self.openAIStream, into: &unsupported).isEmpty)
    }
}
