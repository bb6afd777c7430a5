/// Writes a ``ChatResponse`` in the caller's schema.
///
/// Decisions: `model` is the name the caller asked for; `id` and `created` are the sidecar's. For OpenAI callers the
/// text blocks are joined into `content` (`null` when there is only tool calls), tool calls become `tool_calls` with
/// the input serialised as the `arguments` string, and thinking is dropped (Chat Completions has no field for it).
/// For Anthropic callers every block keeps its type; `stop_sequence` is known only when the upstream says which.
enum ResponseWriters {
    static func openAI(_ response: ChatResponse, model: String, id: String, created: Int) -> JSONTree {
        var texts: [String] = []
        var calls: [JSONTree] = []
        for block in response.content {
            switch block {
            case .text(let text): texts.append(text)
            case .toolUse(let callID, let name, let input):
                calls.append(["id": .string(callID), "type": "function", "function": ["name": .string(name), "arguments": .string(input.text)]])
            case .thinking, .redactedThinking: continue
            }
        }
        var message: JSONObject = ["role": "assistant", "content": texts.isEmpty ? .null : .string(texts.joined()), "refusal": nil]
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        var body: JSONObject = [
            "id": .string(id),
            "object": "chat.completion",
            "created": .int(created),
            "model": .string(model),
            "choices": [["index": 0, "message": .object(message), "logprobs": nil, "finish_reason": .string(response.stopReason.openAI)]],
        ]
        body["usage"] = (response.usage ?? UsageCounts()).openAI
        return .object(body)
    }

    static func anthropic(_ response: ChatResponse, model: String, id: String) -> JSONTree {
        let content: [JSONTree] = response.content.map { block in
            switch block {
            case .text(let text): return ["type": "text", "text": .string(text)]
            case .toolUse(let callID, let name, let input): return ["type": "tool_use", "id": .string(callID), "name": .string(name), "input": input]
            case .thinking(let text, let signature): return ["type": "thinking", "thinking": .string(text), "signature": .string(signature ?? "")]
            case .redactedThinking(let data): return ["type": "redacted_thinking", "data": .string(data)]
            }
        }
        return [
            "id": .string(id),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(response.stopReason.anthropic),
            "stop_sequence": response.stopSequence.map(JSONTree.string) ?? .null,
            "usage": (response.usage ?? UsageCounts()).anthropic,
        ]
    }
}
