import LLMeshModel

/// A locally made answer of the `Mock` provider.
public enum MockAnswer: Sendable {
    /// A complete JSON body with status 200.
    case json([UInt8])
    /// Server-Sent Events, one word of text per content event.
    case stream([[UInt8]])
}

/// The `Mock` provider: deterministic answers in the caller's own wire format, with realistic usage.
///
/// It serves dry runs, the quick start and tests. Answers depend only on the request and the settings,
/// never on time or randomness, except for the `created` timestamp the caller passes in.
public struct MockResponder: Sendable {
    public var settings: MockSettings

    public init(settings: MockSettings) {
        self.settings = settings
    }

    /// The text of every answer for `model`.
    public func text(for model: String) -> String {
        settings.response ?? "This is a mock response from llmesh for model \(model)."
    }

    /// Answers `request` for `kind` as if it were `model`.
    ///
    /// - Parameters:
    ///   - includeUsage: whether a streamed OpenAI answer ends with a usage chunk (as the real API does when
    ///     `stream_options.include_usage` is set).
    ///   - requestID: used to make response ids unique per request.
    ///   - created: Unix seconds for `created` fields.
    public func answer(_ request: InspectedRequest, kind: APIKind, model: String, includeUsage: Bool, requestID: String, created: Int) -> MockAnswer {
        let words = text(for: model).split(separator: " ").map(String.init)
        let reply = words.joined(separator: " ")
        let usage = TokenUsage(input: TokenEstimate.tokens(inUTF8Count: request.document.bytes.count), output: words.count)
        let quotedModel = JSONText.quoted(model)
        switch kind {
        case .chatCompletions:
            let id = JSONText.quoted("chatcmpl-mock-\(requestID)")
            guard request.stream else {
                return .json(Array(#"{"id":\#(id),"object":"chat.completion","created":\#(created),"model":\#(quotedModel),"choices":[{"index":0,"message":{"role":"assistant","content":\#(JSONText.quoted(reply)),"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":\#(openAIUsage(usage)),"system_fingerprint":null}"#.utf8))
            }
            let usageField = includeUsage ? #","usage":null"# : ""
            func chunk(_ delta: String, finish: String) -> [UInt8] {
                data(#"{"id":\#(id),"object":"chat.completion.chunk","created":\#(created),"model":\#(quotedModel),"choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}]\#(usageField)}"#)
            }
            var events = [chunk(#"{"role":"assistant","content":""}"#, finish: "null")]
            for (index, word) in words.enumerated() {
                events.append(chunk(#"{"content":\#(JSONText.quoted(index == 0 ? word : " " + word))}"#, finish: "null"))
            }
            events.append(chunk("{}", finish: #""stop""#))
            if includeUsage {
                events.append(data(#"{"id":\#(id),"object":"chat.completion.chunk","created":\#(created),"model":\#(quotedModel),"choices":[],"usage":\#(openAIUsage(usage))}"#))
            }
            events.append(data("[DONE]"))
            return .stream(events)

        case .completions:
            let id = JSONText.quoted("cmpl-mock-\(requestID)")
            guard request.stream else {
                return .json(Array(#"{"id":\#(id),"object":"text_completion","created":\#(created),"model":\#(quotedModel),"choices":[{"index":0,"text":\#(JSONText.quoted(reply)),"logprobs":null,"finish_reason":"stop"}],"usage":\#(openAIUsage(usage))}"#.utf8))
            }
            let usageField = includeUsage ? #","usage":null"# : ""
            var events: [[UInt8]] = []
            for (index, word) in words.enumerated() {
                let finish = index == words.count - 1 ? #""stop""# : "null"
                events.append(data(#"{"id":\#(id),"object":"text_completion","created":\#(created),"model":\#(quotedModel),"choices":[{"index":0,"text":\#(JSONText.quoted(index == 0 ? word : " " + word)),"logprobs":null,"finish_reason":\#(finish)}]\#(usageField)}"#))
            }
            if includeUsage {
                events.append(data(#"{"id":\#(id),"object":"text_completion","created":\#(created),"model":\#(quotedModel),"choices":[],"usage":\#(openAIUsage(usage))}"#))
            }
            events.append(data("[DONE]"))
            return .stream(events)

        case .embeddings:
            return .json(embeddings(request, model: model, usage: usage))

        case .responses:
            return responses(request, model: model, reply: reply, words: words, usage: usage, requestID: requestID, created: created)

        case .messages:
            return messages(request, model: model, reply: reply, words: words, usage: usage, requestID: requestID)

        case .countTokens:
            return .json(Array(#"{"input_tokens":\#(usage.input)}"#.utf8))

        case .models:
            return .json(Array(#"{"object":"list","data":[]}"#.utf8))

        case .converse, .converseStream, .invoke, .invokeStream:
            // The sidecar routes no Bedrock operation to a Mock provider (ProviderType.speaks); Converse's shape if asked.
            return .json(Array(#"{"output":{"message":{"role":"assistant","content":[{"text":\#(JSONText.quoted(reply))}]}},"stopReason":"end_turn","usage":{"inputTokens":\#(usage.input),"outputTokens":\#(usage.output),"totalTokens":\#(usage.total)},"metrics":{"latencyMs":0}}"#.utf8))
        }
    }

    private func openAIUsage(_ usage: TokenUsage) -> String {
        #"{"prompt_tokens":\#(usage.input),"completion_tokens":\#(usage.output),"total_tokens":\#(usage.total),"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}"#
    }

    private func data(_ json: String, event: String? = nil) -> [UInt8] {
        var text = ""
        if let event { text += "event: \(event)\n" }
        text += "data: \(json)\n\n"
        return Array(text.utf8)
    }

    private func embeddings(_ request: InspectedRequest, model: String, usage: TokenUsage) -> [UInt8] {
        let document = request.document
        let input = document.member("input", of: document.root)
        var inputs: [[UInt8]] = []
        if let input {
            switch input.kind {
            case .array:
                let elements = document.elements(of: input)
                // A list of numbers is one tokenised input; a list of strings or lists is many.
                if elements.first?.kind == .number { inputs = [Array(document.slice(input))] } else { inputs = elements.map { Array(document.slice($0)) } }
            default:
                inputs = [Array(document.slice(input))]
            }
        }
        let base64 = document.member("encoding_format", of: document.root).flatMap(document.string) == "base64"
        var items: [String] = []
        for (index, text) in inputs.enumerated() {
            let vector = Self.vector(for: text, dimensions: settings.embeddingDimensions)
            let encoded = base64 ? JSONText.quoted(Base64.encode(floats: vector)) : "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
            items.append(#"{"object":"embedding","index":\#(index),"embedding":\#(encoded)}"#)
        }
        return Array(#"{"object":"list","data":[\#(items.joined(separator: ","))],"model":\#(JSONText.quoted(model)),"usage":{"prompt_tokens":\#(usage.input),"total_tokens":\#(usage.input)}}"#.utf8)
    }

    /// A unit vector derived from the input bytes (FNV-1a seeded), so equal inputs embed equally.
    static func vector(for bytes: [UInt8], dimensions: Int) -> [Float] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var values: [Float] = []
        values.reserveCapacity(dimensions)
        for _ in 0..<dimensions {
            hash ^= hash << 13
            hash ^= hash >> 7
            hash ^= hash << 17
            values.append(Float(Int64(bitPattern: hash % 2001) - 1000) / 1000)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values
    }

    private func responses(_ request: InspectedRequest, model: String, reply: String, words: [String], usage: TokenUsage, requestID: String, created: Int) -> MockAnswer {
        let id = JSONText.quoted("resp_mock_\(requestID)")
        let messageID = JSONText.quoted("msg_mock_\(requestID)")
        let usageJSON = #"{"input_tokens":\#(usage.input),"input_tokens_details":{"cached_tokens":0},"output_tokens":\#(usage.output),"output_tokens_details":{"reasoning_tokens":0},"total_tokens":\#(usage.total)}"#
        func response(status: String, output: String, usage: String) -> String {
            #"{"id":\#(id),"object":"response","created_at":\#(created),"status":"\#(status)","error":null,"incomplete_details":null,"instructions":null,"model":\#(JSONText.quoted(model)),"output":[\#(output)],"parallel_tool_calls":true,"temperature":1.0,"tool_choice":"auto","tools":[],"top_p":1.0,"metadata":{},"usage":\#(usage)}"#
        }
        let textPart = #"{"type":"output_text","text":\#(JSONText.quoted(reply)),"annotations":[]}"#
        let message = #"{"type":"message","id":\#(messageID),"status":"completed","role":"assistant","content":[\#(textPart)]}"#
        guard request.stream else {
            return .json(Array(response(status: "completed", output: message, usage: usageJSON).utf8))
        }
        var sequence = 0
        var events: [[UInt8]] = []
        func emit(_ type: String, _ fields: String) {
            events.append(data(#"{"type":"\#(type)","sequence_number":\#(sequence),\#(fields)}"#, event: type))
            sequence += 1
        }
        let inProgress = response(status: "in_progress", output: "", usage: "null")
        emit("response.created", #""response":\#(inProgress)"#)
        emit("response.in_progress", #""response":\#(inProgress)"#)
        emit("response.output_item.added", #""output_index":0,"item":{"type":"message","id":\#(messageID),"status":"in_progress","role":"assistant","content":[]}"#)
        emit("response.content_part.added", #""item_id":\#(messageID),"output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}"#)
        for (index, word) in words.enumerated() {
            emit("response.output_text.delta", #""item_id":\#(messageID),"output_index":0,"content_index":0,"delta":\#(JSONText.quoted(index == 0 ? word : " " + word)),"logprobs":[]"#)
        }
        emit("response.output_text.done", #""item_id":\#(messageID),"output_index":0,"content_index":0,"text":\#(JSONText.quoted(reply)),"logprobs":[]"#)
        emit("response.content_part.done", #""item_id":\#(messageID),"output_index":0,"content_index":0,"part":\#(textPart)"#)
        emit("response.output_item.done", #""output_index":0,"item":\#(message)"#)
        emit("response.completed", #""response":\#(response(status: "completed", output: message, usage: usageJSON))"#)
        return .stream(events)
    }

    private func messages(_ request: InspectedRequest, model: String, reply: String, words: [String], usage: TokenUsage, requestID: String) -> MockAnswer {
        let id = JSONText.quoted("msg_mock_\(requestID)")
        let quotedModel = JSONText.quoted(model)
        guard request.stream else {
            return .json(Array(#"{"id":\#(id),"type":"message","role":"assistant","model":\#(quotedModel),"content":[{"type":"text","text":\#(JSONText.quoted(reply))}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":\#(usage.input),"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":\#(usage.output)}}"#.utf8))
        }
        var events: [[UInt8]] = []
        events.append(data(#"{"type":"message_start","message":{"id":\#(id),"type":"message","role":"assistant","model":\#(quotedModel),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(usage.input),"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#, event: "message_start"))
        events.append(data(#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#, event: "content_block_start"))
        events.append(data(#"{"type":"ping"}"#, event: "ping"))
        for (index, word) in words.enumerated() {
            events.append(data(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(JSONText.quoted(index == 0 ? word : " " + word))}}"#, event: "content_block_delta"))
        }
        events.append(data(#"{"type":"content_block_stop","index":0}"#, event: "content_block_stop"))
        events.append(data(#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":\#(usage.output)}}"#, event: "message_delta"))
        events.append(data(#"{"type":"message_stop"}"#, event: "message_stop"))
        return .stream(events)
    }
}

/// Standard base64 (RFC 4648) for the float vectors OpenAI SDKs request by default.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(floats: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * 4)
        for value in floats {
            let bits = value.bitPattern.littleEndian
            bytes.append(contentsOf: [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8), UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)])
        }
        return encode(bytes)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = bytes[index]
            let b1 = remaining > 1 ? bytes[index + 1] : 0
            let b2 = remaining > 2 ? bytes[index + 2] : 0
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(remaining > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            output.append(remaining > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
