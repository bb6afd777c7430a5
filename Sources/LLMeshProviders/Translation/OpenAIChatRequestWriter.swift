/// Writes a ``ChatRequest`` as an OpenAI Chat Completions body (from an Anthropic Messages caller, for an
/// OpenAI-compatible upstream).
///
/// Decisions:
/// - System blocks → one `system` message, joined with newlines (the form every OpenAI-compatible server accepts).
/// - User turns: tool results → `role: tool` messages (`tool_call_id`, text content; JSON results serialised) sent
///   before the rest of the turn; text and images → a `user` message (a plain string when it is one text); base64
///   images → `image_url` with a `data:` URL, URL images → `image_url.url`.
/// - Assistant turns: text joined → `content` (`null` when only tool calls), tool calls → `tool_calls[{id, type:
///   function, function{name, arguments: JSON text}}]`. Thinking blocks are dropped (OpenAI cannot take them back).
/// - `max_tokens` → `max_completion_tokens` (the current field; `max_tokens` is deprecated and refused by reasoning
///   models). `temperature`, `top_p`, `stop_sequences` → `stop`.
/// - Tools → `tools[{type: function, function{name, description, parameters}}]`; `tool_choice` auto/any/tool/none →
///   `auto`/`required`/function/`none`; `disable_parallel_tool_use` → `parallel_tool_calls: false`.
/// - `metadata.user_id` → `user`. Streaming adds `stream_options.include_usage: true` so usage arrives.
/// - Refused (400): `top_k`, `thinking` (no counterpart), `document` blocks, images inside tool results (OpenAI tool
///   messages carry text only), and a tool result's `is_error` is dropped (OpenAI has no such flag; the result text
///   still says what went wrong).
enum OpenAIChatRequestWriter {
    static func write(_ request: ChatRequest, model: String) throws(SidecarError) -> JSONTree {
        let target = WireSchema.openAIChat
        if request.topK != nil {
            throw TranslationErrors.untranslatable("top_k", "OpenAI has no top-k sampling", to: target)
        }
        if request.thinking != nil {
            throw TranslationErrors.untranslatable("thinking", "extended thinking has no counterpart", to: target)
        }
        var messages: [JSONTree] = []
        if !request.system.isEmpty {
            messages.append(["role": "system", "content": .string(request.system.joined(separator: "\n"))])
        }
        for (index, message) in request.messages.enumerated() {
            let path = "messages[\(index)].content"
            switch message.role {
            case .user: messages.append(contentsOf: try userMessages(message.content, path: path))
            case .assistant: if let written = try assistantMessage(message.content, path: path) { messages.append(written) }
            }
        }
        var body: JSONObject = ["model": .string(model), "messages": .array(messages)]
        body.setIfPresent("max_completion_tokens", request.maxTokens.map(JSONTree.int))
        body.setIfPresent("temperature", request.temperature)
        body.setIfPresent("top_p", request.topP)
        if !request.stopSequences.isEmpty { body["stop"] = .array(request.stopSequences.map(JSONTree.string)) }
        if request.stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                var function: JSONObject = ["name": .string(tool.name)]
                function.setIfPresent("description", tool.description.map(JSONTree.string))
                function["parameters"] = tool.schema
                return ["type": "function", "function": .object(function)]
            })
            switch request.toolChoice {
            case .some(.auto): body["tool_choice"] = "auto"
            case .some(.required): body["tool_choice"] = "required"
            case .some(.none): body["tool_choice"] = "none"
            case .some(.tool(let name)): body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            case nil: break
            }
            if request.parallelToolCalls == false { body["parallel_tool_calls"] = false }
        }
        body.setIfPresent("user", request.userID.map(JSONTree.string))
        return .object(body)
    }

    private static func userMessages(_ content: [ChatBlock], path: String) throws(SidecarError) -> [JSONTree] {
        var toolMessages: [JSONTree] = []
        var parts: [JSONTree] = []
        var texts: [String] = []
        for block in content {
            switch block {
            case .text(let text):
                texts.append(text)
                parts.append(["type": "text", "text": .string(text)])
            case .image(let image):
                parts.append(["type": "image_url", "image_url": ["url": .string(url(of: image))]])
            case .toolResult(let id, let resultParts, _):
                var pieces: [String] = []
                for part in resultParts {
                    switch part {
                    case .text(let text): pieces.append(text)
                    case .json(let value): pieces.append(value.text)
                    case .image:
                        throw TranslationErrors.untranslatable(path, "OpenAI tool messages carry text only, not images", to: .openAIChat)
                    }
                }
                toolMessages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(pieces.joined(separator: "\n"))])
            case .document:
                throw TranslationErrors.untranslatable(path, "document blocks have no Chat Completions counterpart", to: .openAIChat)
            case .toolUse:
                throw TranslationErrors.invalid(path, "holds a tool_use block in a user turn")
            case .thinking, .redactedThinking, .cachePoint:
                continue
            }
        }
        guard !parts.isEmpty else { return toolMessages }
        let userContent: JSONTree = texts.count == 1 && parts.count == 1 ? .string(texts[0]) : .array(parts)
        return toolMessages + [["role": "user", "content": userContent]]
    }

    private static func assistantMessage(_ content: [ChatBlock], path: String) throws(SidecarError) -> JSONTree? {
        var texts: [String] = []
        var calls: [JSONTree] = []
        for block in content {
            switch block {
            case .text(let text):
                texts.append(text)
            case .toolUse(let id, let name, let input):
                calls.append(["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(input.text)]])
            case .thinking, .redactedThinking, .cachePoint:
                continue
            case .image, .document, .toolResult:
                throw TranslationErrors.untranslatable(path, "OpenAI assistant messages carry text and tool calls only", to: .openAIChat)
            }
        }
        guard !texts.isEmpty || !calls.isEmpty else { return nil }
        var message: JSONObject = ["role": "assistant", "content": texts.isEmpty ? .null : .string(texts.joined())]
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return .object(message)
    }

    private static func url(of image: ChatImage) -> String {
        switch image {
        case .base64(let mediaType, let data): return MediaTypes.dataURL(mediaType: mediaType, data: data)
        case .url(let url): return url
        }
    }
}
