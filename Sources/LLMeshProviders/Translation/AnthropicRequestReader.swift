/// Reads an Anthropic Messages request into a ``ChatRequest``, for a Bedrock Converse or OpenAI-compatible upstream.
///
/// Decisions (what each caller field becomes):
/// - `system`: a string or `text` blocks, one system block each; `citations` on history text blocks are dropped.
/// - `cache_control` (`ephemeral`, optional `ttl` `5m` or `1h`) on a system block, content block or tool: a Converse
///   `cachePoint` right after it, with the same `ttl`. For an OpenAI-compatible upstream it is dropped: those servers
///   cache prompt prefixes on their own and have no field for it. Any other `type` is refused.
/// - `messages[].content`: a string, or blocks `text`, `image` (`base64` or `url` source), `document` (`base64` PDF or
///   `text` source; refused for OpenAI), `tool_use`, `tool_result` (string or `text`/`image` content, `is_error`),
///   `thinking` and `redacted_thinking` (kept for Converse, dropped for OpenAI, which cannot take them back).
/// - `max_tokens`, `temperature`, `top_p`, `top_k` (Converse: `additionalModelRequestFields.top_k`; OpenAI: refused),
///   `stop_sequences`, `stream`.
/// - `tools` (custom tools: `name`, `description`, `input_schema`), `tool_choice` (`auto`, `any`, `tool`, `none`,
///   `disable_parallel_tool_use`).
/// - `thinking` (enabled): Converse `additionalModelRequestFields.thinking`; refused for OpenAI. `disabled` is dropped.
/// - `metadata.user_id` becomes the end-user id (OpenAI `user`; dropped for Converse). `service_tier` is dropped.
/// - Refused (400 `untranslatable_request`): `image` and `document` `file` sources, `url` documents, server and
///   Anthropic-defined tools (`web_search_…`, `bash_…`, `text_editor_…`, …), unknown block types (`search_result`,
///   `server_tool_use`, `container_upload`, …), and any unknown top-level field (`container`, `mcp_servers`,
///   `context_management`, …).
enum AnthropicRequestReader {
    static func read(_ root: JSONObject, target: WireSchema) throws(SidecarError) -> ChatRequest {
        var request = ChatRequest()
        for member in root.members where !member.value.isNull {
            let field = FieldReader(member.key, member.value)
            switch member.key {
            case "model", "messages":
                continue
            case "max_tokens":
                request.maxTokens = try field.int()
            case "temperature":
                request.temperature = try field.number()
            case "top_p":
                request.topP = try field.number()
            case "top_k":
                request.topK = try field.int()
            case "stop_sequences":
                request.stopSequences = try field.strings()
            case "stream":
                request.stream = try field.bool() ?? false
            case "system":
                (request.system, request.systemCachePoints) = try systemBlocks(member.value, target: target)
            case "metadata":
                request.userID = try FieldReader("metadata.user_id", member.value["user_id"]).string()
            case "tools":
                request.tools = try readTools(try field.array() ?? [], target: target)
            case "tool_choice":
                try readToolChoice(member.value, into: &request)
            case "thinking":
                let type = try FieldReader("thinking.type", member.value["type"]).requiredString()
                if type != "disabled" { request.thinking = member.value }
            case "service_tier":
                continue
            default:
                throw TranslationErrors.untranslatable(member.key, "unknown field", to: target)
            }
        }
        guard let messages = try FieldReader("messages", root["messages"]).array() else {
            throw TranslationErrors.invalid("messages", "is required")
        }
        for (index, message) in messages.enumerated() {
            let path = "messages[\(index)]"
            guard message.objectValue != nil else { throw TranslationErrors.invalid(path, "must be an object") }
            let roleName = try FieldReader("\(path).role", message["role"]).requiredString()
            guard let role = ChatRole(rawValue: roleName) else {
                throw TranslationErrors.invalid("\(path).role", "must be user or assistant")
            }
            request.append(role, try blocks(message["content"], path: "\(path).content", target: target))
        }
        return request
    }

    private static func systemBlocks(_ value: JSONTree, target: WireSchema) throws(SidecarError) -> ([String], [Int: ChatCachePoint]) {
        if let text = value.stringValue { return (text.isEmpty ? [] : [text], [:]) }
        guard let blocks = value.arrayValue else { throw TranslationErrors.invalid("system", "must be a string or an array of text blocks") }
        var texts: [String] = []
        var cachePoints: [Int: ChatCachePoint] = [:]
        for (index, block) in blocks.enumerated() {
            let type = try FieldReader("system[\(index)].type", block["type"]).requiredString()
            guard type == "text" else {
                throw TranslationErrors.untranslatable("system[\(index)].type", "only text system blocks are possible, not '\(type)'", to: target)
            }
            let text = try FieldReader("system[\(index)].text", block["text"]).requiredString()
            if !text.isEmpty { texts.append(text) }
            if let point = try cachePoint(block, path: "system[\(index)]", target: target), !texts.isEmpty {
                cachePoints[texts.count - 1] = point
            }
        }
        return (texts, cachePoints)
    }

    /// The block's `cache_control` as a checkpoint after it, or nil when it has none or the target cannot take one.
    private static func cachePoint(_ block: JSONTree, path: String, target: WireSchema) throws(SidecarError) -> ChatCachePoint? {
        guard let control = block["cache_control"], !control.isNull else { return nil }
        let type = try FieldReader("\(path).cache_control.type", control["type"]).requiredString()
        guard type == "ephemeral" else {
            throw TranslationErrors.untranslatable("\(path).cache_control.type", "only 'ephemeral' cache checkpoints are known, not '\(type)'", to: target)
        }
        let ttl = try FieldReader("\(path).cache_control.ttl", control["ttl"]).string()
        if let ttl, ttl != "5m", ttl != "1h" {
            throw TranslationErrors.invalid("\(path).cache_control.ttl", "must be 5m or 1h, not '\(ttl)'")
        }
        return target == .bedrockConverse ? ChatCachePoint(ttl: ttl) : nil
    }

    private static func blocks(_ content: JSONTree?, path: String, target: WireSchema) throws(SidecarError) -> [ChatBlock] {
        guard let content, !content.isNull else { throw TranslationErrors.invalid(path, "is required") }
        if let text = content.stringValue { return text.isEmpty ? [] : [.text(text)] }
        guard let blocks = content.arrayValue else { throw TranslationErrors.invalid(path, "must be a string or an array of content blocks") }
        var result: [ChatBlock] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path)[\(index)]"
            let type = try FieldReader("\(blockPath).type", block["type"]).requiredString()
            switch type {
            case "text":
                let text = try FieldReader("\(blockPath).text", block["text"]).requiredString()
                if !text.isEmpty { result.append(.text(text)) }
            case "image":
                result.append(.image(try image(block["source"], path: "\(blockPath).source", target: target)))
            case "document":
                result.append(.document(try document(block, path: blockPath, target: target)))
            case "tool_use":
                let id = try FieldReader("\(blockPath).id", block["id"]).requiredString()
                let name = try FieldReader("\(blockPath).name", block["name"]).requiredString()
                let input = try FieldReader("\(blockPath).input", block["input"]).object() ?? [:]
                result.append(.toolUse(id: id, name: name, input: .object(input)))
            case "tool_result":
                let id = try FieldReader("\(blockPath).tool_use_id", block["tool_use_id"]).requiredString()
                let isError = try FieldReader("\(blockPath).is_error", block["is_error"]).bool() ?? false
                let (parts, innerPoint) = try toolResultContent(block["content"], path: "\(blockPath).content", target: target)
                result.append(.toolResult(id: id, content: parts, isError: isError))
                // Converse tool results cannot hold a checkpoint: one inside becomes one right after the result.
                if let innerPoint, block["cache_control"]?.isNull ?? true { result.append(.cachePoint(innerPoint)) }
            case "thinking":
                let text = try FieldReader("\(blockPath).thinking", block["thinking"]).requiredString()
                let signature = try FieldReader("\(blockPath).signature", block["signature"]).string()
                result.append(.thinking(text: text, signature: signature))
            case "redacted_thinking":
                result.append(.redactedThinking(data: try FieldReader("\(blockPath).data", block["data"]).requiredString()))
            default:
                throw TranslationErrors.untranslatable("\(blockPath).type", "unknown content block '\(type)'", to: target)
            }
            if let point = try cachePoint(block, path: blockPath, target: target), !result.isEmpty {
                result.append(.cachePoint(point))
            }
        }
        return result
    }

    private static func image(_ source: JSONTree?, path: String, target: WireSchema) throws(SidecarError) -> ChatImage {
        let type = try FieldReader("\(path).type", source?["type"]).requiredString()
        switch type {
        case "base64":
            let mediaType = try FieldReader("\(path).media_type", source?["media_type"]).requiredString()
            let data = try FieldReader("\(path).data", source?["data"]).requiredString()
            return .base64(mediaType: mediaType, data: data)
        case "url":
            return .url(try FieldReader("\(path).url", source?["url"]).requiredString())
        default:
            throw TranslationErrors.untranslatable("\(path).type", "'\(type)' image sources are not supported", to: target)
        }
    }

    private static func document(_ block: JSONTree, path: String, target: WireSchema) throws(SidecarError) -> ChatDocument {
        let source = block["source"]
        let title = try FieldReader("\(path).title", block["title"]).string()
        let type = try FieldReader("\(path).source.type", source?["type"]).requiredString()
        switch type {
        case "base64":
            let mediaType = try FieldReader("\(path).source.media_type", source?["media_type"]).requiredString()
            guard mediaType == "application/pdf" else {
                throw TranslationErrors.untranslatable("\(path).source.media_type", "only PDF documents are supported, not '\(mediaType)'", to: target)
            }
            return .pdf(base64: try FieldReader("\(path).source.data", source?["data"]).requiredString(), title: title)
        case "text":
            return .plainText(try FieldReader("\(path).source.data", source?["data"]).requiredString(), title: title)
        default:
            throw TranslationErrors.untranslatable("\(path).source.type", "'\(type)' document sources are not supported", to: target)
        }
    }

    private static func toolResultContent(_ content: JSONTree?, path: String, target: WireSchema) throws(SidecarError) -> ([ChatToolResultPart], ChatCachePoint?) {
        guard let content, !content.isNull else { return ([], nil) }
        if let text = content.stringValue { return (text.isEmpty ? [] : [.text(text)], nil) }
        guard let blocks = content.arrayValue else { throw TranslationErrors.invalid(path, "must be a string or an array of content blocks") }
        var parts: [ChatToolResultPart] = []
        var lastPoint: ChatCachePoint?
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path)[\(index)]"
            let type = try FieldReader("\(blockPath).type", block["type"]).requiredString()
            switch type {
            case "text":
                let text = try FieldReader("\(blockPath).text", block["text"]).requiredString()
                if !text.isEmpty { parts.append(.text(text)) }
            case "image":
                parts.append(.image(try image(block["source"], path: "\(blockPath).source", target: target)))
            default:
                throw TranslationErrors.untranslatable("\(blockPath).type", "tool results may hold text and images here, not '\(type)'", to: target)
            }
            if let point = try cachePoint(block, path: blockPath, target: target) { lastPoint = point }
        }
        return (parts, lastPoint)
    }

    private static func readTools(_ tools: [JSONTree], target: WireSchema) throws(SidecarError) -> [ChatTool] {
        var result: [ChatTool] = []
        for (index, tool) in tools.enumerated() {
            let path = "tools[\(index)]"
            let type = try FieldReader("\(path).type", tool["type"]).string() ?? "custom"
            guard type == "custom" else {
                throw TranslationErrors.untranslatable("\(path).type", "Anthropic-defined and server tools ('\(type)') exist only at Anthropic", to: target)
            }
            let name = try FieldReader("\(path).name", tool["name"]).requiredString()
            let description = try FieldReader("\(path).description", tool["description"]).string()
            let schema = try FieldReader("\(path).input_schema", tool["input_schema"]).object().map(JSONTree.object)
            let point = try cachePoint(tool, path: path, target: target)
            result.append(ChatTool(name: name, description: description, schema: schema ?? ["type": "object", "properties": [:]], cachePoint: point))
        }
        return result
    }

    private static func readToolChoice(_ value: JSONTree, into request: inout ChatRequest) throws(SidecarError) {
        let type = try FieldReader("tool_choice.type", value["type"]).requiredString()
        switch type {
        case "auto": request.toolChoice = .auto
        case "any": request.toolChoice = .required
        case "none": request.toolChoice = ChatToolChoice.none
        case "tool": request.toolChoice = .tool(try FieldReader("tool_choice.name", value["name"]).requiredString())
        default: throw TranslationErrors.invalid("tool_choice.type", "'\(type)' is not auto, any, tool or none")
        }
        if try FieldReader("tool_choice.disable_parallel_tool_use", value["disable_parallel_tool_use"]).bool() == true {
            request.parallelToolCalls = false
        }
    }
}
