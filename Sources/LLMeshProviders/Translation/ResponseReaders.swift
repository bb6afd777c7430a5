/// Reads each upstream schema's complete answer into a ``ChatResponse``.
///
/// Unknown content blocks (server-tool results and the like, which no translated request can ask for) are skipped;
/// a tool call whose arguments are not a JSON object fails with 502, since the caller's schema needs an object.
enum ResponseReaders {
    /// An Anthropic `message`.
    static func anthropic(_ body: JSONTree) throws(SidecarError) -> ChatResponse {
        var response = ChatResponse()
        for block in body["content"]?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text":
                response.content.append(.text(block["text"]?.stringValue ?? ""))
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw TranslationErrors.badUpstream("a tool_use block has no id or name")
                }
                response.content.append(.toolUse(id: id, name: name, input: block["input"] ?? [:]))
            case "thinking":
                response.content.append(.thinking(text: block["thinking"]?.stringValue ?? "", signature: block["signature"]?.stringValue))
            case "redacted_thinking":
                response.content.append(.redactedThinking(data: block["data"]?.stringValue ?? ""))
            default:
                continue
            }
        }
        response.stopReason = ChatStopReason(anthropic: body["stop_reason"]?.stringValue)
        response.stopSequence = body["stop_sequence"]?.stringValue
        response.usage = UsageCounts(anthropic: body["usage"])
        return response
    }

    /// A Converse `ConverseResponse`.
    static func converse(_ body: JSONTree) throws(SidecarError) -> ChatResponse {
        var response = ChatResponse()
        for block in body["output"]?["message"]?["content"]?.arrayValue ?? [] {
            if let text = block["text"]?.stringValue {
                response.content.append(.text(text))
            } else if let use = block["toolUse"] {
                guard let id = use["toolUseId"]?.stringValue, let name = use["name"]?.stringValue else {
                    throw TranslationErrors.badUpstream("a toolUse block has no toolUseId or name")
                }
                response.content.append(.toolUse(id: id, name: name, input: use["input"] ?? [:]))
            } else if let reasoning = block["reasoningContent"] {
                if let text = reasoning["reasoningText"] {
                    response.content.append(.thinking(text: text["text"]?.stringValue ?? "", signature: text["signature"]?.stringValue))
                } else if let redacted = reasoning["redactedContent"]?.stringValue {
                    response.content.append(.redactedThinking(data: redacted))
                }
            }
        }
        response.stopReason = ChatStopReason(converse: body["stopReason"]?.stringValue)
        response.usage = UsageCounts(converse: body["usage"])
        return response
    }

    /// An OpenAI `chat.completion`: the first choice (translated requests never ask for more).
    static func openAI(_ body: JSONTree) throws(SidecarError) -> ChatResponse {
        var response = ChatResponse()
        guard let choice = body["choices"]?.arrayValue?.first else { throw TranslationErrors.badUpstream("the answer has no choices") }
        let message = choice["message"]
        if let text = message?["content"]?.stringValue, !text.isEmpty { response.content.append(.text(text)) }
        if let refusal = message?["refusal"]?.stringValue, !refusal.isEmpty { response.content.append(.text(refusal)) }
        for call in message?["tool_calls"]?.arrayValue ?? [] {
            guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                throw TranslationErrors.badUpstream("a tool call has no id or name")
            }
            let arguments = call["function"]?["arguments"]?.stringValue ?? ""
            guard let input = try? OpenAIChatRequestReader.argumentsObject(arguments, path: "arguments", target: .anthropicMessages) else {
                throw TranslationErrors.badUpstream("the arguments of tool call '\(name)' are not a JSON object")
            }
            response.content.append(.toolUse(id: id, name: name, input: input))
        }
        response.stopReason = ChatStopReason(openAI: choice["finish_reason"]?.stringValue)
        response.usage = UsageCounts(openAI: body["usage"])
        return response
    }
}
