/// Writes neutral stream events as OpenAI `chat.completion.chunk` SSE, the way OpenAI streams them.
///
/// The first chunk carries `delta.role: assistant`; text arrives as `delta.content`; each tool call gets a
/// `tool_calls[{index, id, type: function, function{name, arguments: ""}}]` chunk and then argument pieces (a call
/// that received no arguments gets `"{}"`, so callers can parse it); the finish chunk has an empty delta and
/// `finish_reason`; with `includeUsage` a last chunk with `choices: []` and `usage` follows; then `data: [DONE]`.
/// Thinking is not forwarded (Chat Completions has no field for it). An upstream failure becomes
/// `data: {"error":{…}}`, which the OpenAI SDKs raise.
struct OpenAIStreamWriter: Sendable {
    let model: String
    let id: String
    let created: Int
    let includeUsage: Bool
    private var sentRole = false
    private var finished = false
    private(set) var done = false
    private var toolOrdinals: [Int: Int] = [:]
    private var toolsWithArguments: Set<Int> = []

    init(model: String, id: String, created: Int, includeUsage: Bool) {
        self.model = model
        self.id = id
        self.created = created
        self.includeUsage = includeUsage
    }

    mutating func write(_ event: ChatStreamEvent, usage: UsageCounts?) -> [UInt8] {
        guard !done else { return [] }
        var output: [UInt8] = []
        switch event {
        case .start:
            ensureRole(&output)
        case .text(_, let text):
            guard !text.isEmpty else { return [] }
            ensureRole(&output)
            chunk(["content": .string(text)], into: &output)
        case .thinking, .signature:
            return []
        case .toolStart(let block, let callID, let name):
            ensureRole(&output)
            let ordinal = toolOrdinals.count
            toolOrdinals[block] = ordinal
            let call: JSONTree = ["index": .int(ordinal), "id": .string(callID), "type": "function", "function": ["name": .string(name), "arguments": ""]]
            chunk(["tool_calls": [call]], into: &output)
        case .toolInput(let block, let arguments):
            guard let ordinal = toolOrdinals[block], !arguments.isEmpty else { return [] }
            toolsWithArguments.insert(block)
            chunk(["tool_calls": [["index": .int(ordinal), "function": ["arguments": .string(arguments)]]]], into: &output)
        case .blockStop(let block):
            guard let ordinal = toolOrdinals[block], !toolsWithArguments.contains(block) else { return [] }
            toolsWithArguments.insert(block)
            chunk(["tool_calls": [["index": .int(ordinal), "function": ["arguments": "{}"]]]], into: &output)
        case .stop(let reason, _):
            guard !finished else { return [] }
            ensureRole(&output)
            finished = true
            chunk([:], finishReason: reason.openAI, into: &output)
        case .end:
            close(usage: usage, into: &output)
        case .failure(let error):
            done = true
            Self.append(data: error.body(for: .openAIChat), to: &output)
        }
        return output
    }

    /// What is still owed when the upstream ended cleanly after its stop reason but without its final event.
    mutating func finish(usage: UsageCounts?) -> [UInt8] {
        guard !done, finished else { return [] }
        var output: [UInt8] = []
        close(usage: usage, into: &output)
        return output
    }

    private mutating func close(usage: UsageCounts?, into output: inout [UInt8]) {
        if !finished {
            ensureRole(&output)
            finished = true
            chunk([:], finishReason: ChatStopReason.endTurn.openAI, into: &output)
        }
        if includeUsage {
            let body: JSONTree = [
                "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
                "choices": [], "usage": (usage ?? UsageCounts()).openAI,
            ]
            Self.append(data: body, to: &output)
        }
        output.append(contentsOf: "data: [DONE]\n\n".utf8)
        done = true
    }

    private mutating func ensureRole(_ output: inout [UInt8]) {
        guard !sentRole else { return }
        sentRole = true
        chunk(["role": "assistant", "content": ""], into: &output)
    }

    private func chunk(_ delta: JSONObject, finishReason: String? = nil, into output: inout [UInt8]) {
        let body: JSONTree = [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "delta": .object(delta), "logprobs": nil, "finish_reason": finishReason.map(JSONTree.string) ?? .null]],
        ]
        Self.append(data: body, to: &output)
    }

    static func append(data: JSONTree, to output: inout [UInt8]) {
        output.append(contentsOf: "data: ".utf8)
        data.write(into: &output)
        output.append(contentsOf: "\n\n".utf8)
    }
}
