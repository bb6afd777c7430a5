/// Writes a ``ChatRequest`` as an Anthropic Messages body (from an OpenAI Chat caller).
///
/// Decisions:
/// - `max_tokens` is required by Anthropic: 4096 when the caller gave none.
/// - System blocks become `system` (a string for one block, text blocks for several).
/// - Turns alternate (consecutive turns of one role are merged) and tool results lead their user turn, as Anthropic
///   requires.
/// - Images: base64 → `source.type: base64` (media types png, jpeg, gif, webp; others refused); URLs →
///   `source.type: url`.
/// - Tools → `tools[{name, description, input_schema}]`; `tool_choice` auto/none/required/function →
///   `auto`/`none`/`any`/`tool`; `parallel_tool_calls: false` → `disable_parallel_tool_use: true`. `tool_choice`
///   without tools is omitted (it would only be rejected).
/// - The end-user id → `metadata.user_id`. `stream: true` only when streaming.
enum AnthropicRequestWriter {
    static let defaultMaxTokens = 4096

    static func write(_ request: ChatRequest, model: String) throws(SidecarError) -> JSONTree {
        var body: JSONObject = ["model": .string(model), "max_tokens": .int(request.maxTokens ?? defaultMaxTokens)]
        if request.system.count == 1 {
            body["system"] = .string(request.system[0])
        } else if !request.system.isEmpty {
            body["system"] = .array(request.system.map { ["type": "text", "text": .string($0)] })
        }
        var messages: [JSONTree] = []
        for (index, message) in request.messages.enumerated() {
            var blocks: [JSONTree] = []
            for block in orderedForAnthropic(message) {
                if let written = try write(block, path: "messages[\(index)]") { blocks.append(written) }
            }
            if !blocks.isEmpty { messages.append(["role": .string(message.role.rawValue), "content": .array(blocks)]) }
        }
        body["messages"] = .array(messages)
        body.setIfPresent("temperature", request.temperature)
        body.setIfPresent("top_p", request.topP)
        body.setIfPresent("top_k", request.topK.map(JSONTree.int))
        if !request.stopSequences.isEmpty { body["stop_sequences"] = .array(request.stopSequences.map(JSONTree.string)) }
        if request.stream { body["stream"] = true }
        if let user = request.userID { body["metadata"] = ["user_id": .string(user)] }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                var object: JSONObject = ["name": .string(tool.name)]
                object.setIfPresent("description", tool.description.map(JSONTree.string))
                object["input_schema"] = tool.schema
                return .object(object)
            })
            if let choice = toolChoice(request) { body["tool_choice"] = choice }
        }
        body.setIfPresent("thinking", request.thinking)
        return .object(body)
    }

    private static func toolChoice(_ request: ChatRequest) -> JSONTree? {
        var choice: JSONObject
        switch request.toolChoice {
        case nil:
            guard request.parallelToolCalls == false else { return nil }
            choice = ["type": "auto"]
        case .some(.auto): choice = ["type": "auto"]
        case .some(.required): choice = ["type": "any"]
        case .some(.tool(let name)): choice = ["type": "tool", "name": .string(name)]
        case .some(.none): return ["type": "none"]
        }
        if request.parallelToolCalls == false { choice["disable_parallel_tool_use"] = true }
        return .object(choice)
    }

    /// Tool results first in a user turn.
    private static func orderedForAnthropic(_ message: ChatMessage) -> [ChatBlock] {
        guard message.role == .user else { return message.content }
        let results = message.content.filter { if case .toolResult = $0 { return true } else { return false } }
        let others = message.content.filter { if case .toolResult = $0 { return false } else { return true } }
        return results + others
    }

    private static func write(_ block: ChatBlock, path: String) throws(SidecarError) -> JSONTree? {
        switch block {
        case .text(let text):
            return ["type": "text", "text": .string(text)]
        case .image(let image):
            return try write(image, path: path)
        case .document(.pdf(let data, let title)):
            var object: JSONObject = ["type": "document", "source": ["type": "base64", "media_type": "application/pdf", "data": .string(data)]]
            object.setIfPresent("title", title.map(JSONTree.string))
            return .object(object)
        case .document(.plainText(let text, let title)):
            var object: JSONObject = ["type": "document", "source": ["type": "text", "media_type": "text/plain", "data": .string(text)]]
            object.setIfPresent("title", title.map(JSONTree.string))
            return .object(object)
        case .toolUse(let id, let name, let input):
            return ["type": "tool_use", "id": .string(id), "name": .string(name), "input": input]
        case .toolResult(let id, let content, let isError):
            var parts: [JSONTree] = []
            for part in content {
                switch part {
                case .text(let text): parts.append(["type": "text", "text": .string(text)])
                case .json(let value): parts.append(["type": "text", "text": .string(value.text)])
                case .image(let image): parts.append(try write(image, path: path))
                }
            }
            var object: JSONObject = ["type": "tool_result", "tool_use_id": .string(id), "content": .array(parts)]
            if isError { object["is_error"] = true }
            return .object(object)
        case .thinking(let text, let signature):
            var object: JSONObject = ["type": "thinking", "thinking": .string(text)]
            object.setIfPresent("signature", signature.map(JSONTree.string))
            return .object(object)
        case .redactedThinking(let data):
            return ["type": "redacted_thinking", "data": .string(data)]
        case .cachePoint:
            // Only Converse-bound requests carry checkpoints as blocks.
            return nil
        }
    }

    private static func write(_ image: ChatImage, path: String) throws(SidecarError) -> JSONTree {
        switch image {
        case .base64(let mediaType, let data):
            guard MediaTypes.isAnthropicImageType(mediaType) else {
                throw TranslationErrors.untranslatable("\(path).content", "image type '\(mediaType)' is not one of png, jpeg, gif, webp", to: .anthropicMessages)
            }
            return ["type": "image", "source": ["type": "base64", "media_type": .string(mediaType), "data": .string(data)]]
        case .url(let url):
            return ["type": "image", "source": ["type": "url", "url": .string(url)]]
        }
    }
}
