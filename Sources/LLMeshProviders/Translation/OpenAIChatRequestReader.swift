/// Reads an OpenAI Chat Completions request into a ``ChatRequest``, for an Anthropic Messages or Bedrock Converse
/// upstream.
///
/// Decisions (what each caller field becomes):
/// - `messages`: `system` and `developer` messages become system prompt blocks, in order, wherever they appear
///   (hoisted; Anthropic and Converse have one system prompt). `user` content: a string, or `text` and `image_url`
///   parts. `assistant`: text and `refusal` parts become text, `tool_calls` become tool calls (their `arguments`
///   string must be a JSON object; an empty string reads as `{}`). `tool` messages become tool results in the next
///   user turn; consecutive turns of one role merge. A message's `name` is dropped.
/// - `image_url`: a `data:<type>;base64,` URL becomes a base64 image; an http(s) URL is kept as a URL (Anthropic
///   accepts it, Converse refuses it). `detail` is dropped (it tunes OpenAI's own image tokenisation).
/// - `max_completion_tokens`, else `max_tokens`; `temperature` and `top_p` as given (no clamping to the target's
///   range: the upstream's own validation answers); `stop` (string or list) becomes the stop sequences.
/// - `tools` (`type: function` only; `strict` is dropped, the schema is still sent), `tool_choice` (`auto`, `none`,
///   `required`, or a named function), `parallel_tool_calls`.
/// - `user` (or `safety_identifier`) becomes the end-user id (Anthropic `metadata.user_id`; dropped for Converse).
/// - `stream`; `stream_options` is consumed here (the stream translator emits the usage chunk itself).
/// - Dropped, as they do not change the answer: `seed`, `store`, `metadata`, `service_tier`, `prediction`,
///   `prompt_cache_key`, `prompt_cache_retention`; `n: 1`, `logprobs: false`, zero penalties, empty `logit_bias`,
///   `response_format: {type: text}`, `modalities: ["text"]`.
/// - Refused (400 `untranslatable_request`, naming the field): `n` > 1, `logprobs`, `top_logprobs`,
///   `response_format` `json_object` and `json_schema` (neither target guarantees JSON output through this API),
///   non-zero `presence_penalty` / `frequency_penalty`, non-empty `logit_bias`, `reasoning_effort`, `verbosity`,
///   `web_search_options`, `audio`, non-text `modalities`, the deprecated `functions` / `function_call`, `input_audio`
///   and `file` parts, unknown content-part types, non-function tools, and any unknown top-level field (so a new API
///   feature is never silently lost).
enum OpenAIChatRequestReader {
    static func read(_ root: JSONObject, target: WireSchema) throws(SidecarError) -> ChatRequest {
        var request = ChatRequest()
        func refuse(_ field: String, _ why: String) -> SidecarError {
            TranslationErrors.untranslatable(field, why, to: target)
        }
        for member in root.members where !member.value.isNull {
            let field = FieldReader(member.key, member.value)
            switch member.key {
            case "model", "messages", "stream_options":
                continue
            case "max_tokens":
                if request.maxTokens == nil { request.maxTokens = try field.int() }
            case "max_completion_tokens":
                request.maxTokens = try field.int()
            case "temperature":
                request.temperature = try field.number()
            case "top_p":
                request.topP = try field.number()
            case "stop":
                request.stopSequences = try field.strings()
            case "stream":
                request.stream = try field.bool() ?? false
            case "n":
                if let count = try field.int(), count > 1 { throw refuse("n", "it returns one choice per request (n = \(count))") }
            case "logprobs":
                if try field.bool() == true { throw refuse("logprobs", "log probabilities are not available") }
            case "top_logprobs":
                throw refuse("top_logprobs", "log probabilities are not available")
            case "response_format":
                let type = try FieldReader("response_format.type", member.value["type"]).string()
                if type != "text" {
                    throw refuse("response_format", "'\(type ?? "?")' output is not guaranteed by this API; ask for JSON in the prompt instead")
                }
            case "presence_penalty", "frequency_penalty":
                if let value = try field.number()?.doubleValue, value != 0 { throw refuse(member.key, "there is no such sampling penalty") }
            case "logit_bias":
                if let bias = try field.object(), !bias.isEmpty { throw refuse("logit_bias", "token biases are not available") }
            case "modalities":
                let modalities = try field.strings()
                if modalities.contains(where: { $0 != "text" }) { throw refuse("modalities", "only text output is available") }
            case "tools":
                request.tools = try readTools(try field.array() ?? [], target: target)
            case "tool_choice":
                request.toolChoice = try readToolChoice(member.value)
            case "parallel_tool_calls":
                request.parallelToolCalls = try field.bool()
            case "user":
                request.userID = try field.string()
            case "safety_identifier":
                if request.userID == nil { request.userID = try field.string() }
            case "seed", "store", "metadata", "service_tier", "prediction", "prompt_cache_key", "prompt_cache_retention":
                continue
            case "reasoning_effort", "verbosity", "web_search_options", "audio":
                throw refuse(member.key, "it has no counterpart")
            case "functions", "function_call":
                throw refuse(member.key, "the deprecated function-calling fields are not translated; use 'tools'")
            default:
                throw refuse(member.key, "unknown field")
            }
        }
        guard let messages = try FieldReader("messages", root["messages"]).array() else {
            throw TranslationErrors.invalid("messages", "is required")
        }
        for (index, message) in messages.enumerated() {
            try readMessage(message, path: "messages[\(index)]", into: &request, target: target)
        }
        return request
    }

    private static func readMessage(_ message: JSONTree, path: String, into request: inout ChatRequest, target: WireSchema) throws(SidecarError) {
        guard message.objectValue != nil else { throw TranslationErrors.invalid(path, "must be an object") }
        let role = try FieldReader("\(path).role", message["role"]).requiredString()
        let content = message["content"].flatMap { $0.isNull ? nil : $0 }
        switch role {
        case "system", "developer":
            request.system.append(contentsOf: try textParts(content, path: "\(path).content", target: target))
        case "user":
            request.append(.user, try userContent(content, path: "\(path).content", target: target))
        case "assistant":
            var blocks = try textParts(content, path: "\(path).content", target: target, allowRefusal: true).map(ChatBlock.text)
            if let refusal = try FieldReader("\(path).refusal", message["refusal"]).string(), !refusal.isEmpty {
                blocks.append(.text(refusal))
            }
            if let audio = message["audio"], !audio.isNull {
                throw TranslationErrors.untranslatable("\(path).audio", "audio answers are not available", to: target)
            }
            if let call = message["function_call"], !call.isNull {
                throw TranslationErrors.untranslatable("\(path).function_call", "the deprecated function-calling fields are not translated; use 'tool_calls'", to: target)
            }
            for (index, call) in (try FieldReader("\(path).tool_calls", message["tool_calls"]).array() ?? []).enumerated() {
                blocks.append(try toolCall(call, path: "\(path).tool_calls[\(index)]", target: target))
            }
            request.append(.assistant, blocks)
        case "tool":
            let id = try FieldReader("\(path).tool_call_id", message["tool_call_id"]).requiredString()
            let parts = try textParts(content, path: "\(path).content", target: target).map(ChatToolResultPart.text)
            request.append(.user, [.toolResult(id: id, content: parts, isError: false)])
        case "function":
            throw TranslationErrors.untranslatable("\(path).role", "the deprecated 'function' role is not translated; use 'tool'", to: target)
        default:
            throw TranslationErrors.invalid("\(path).role", "'\(role)' is not a chat role")
        }
    }

    /// The non-empty texts of a string or an array of `text` (and, for assistants, `refusal`) parts.
    private static func textParts(_ content: JSONTree?, path: String, target: WireSchema, allowRefusal: Bool = false) throws(SidecarError) -> [String] {
        guard let content else { return [] }
        if let text = content.stringValue { return text.isEmpty ? [] : [text] }
        guard let parts = content.arrayValue else { throw TranslationErrors.invalid(path, "must be a string or an array of content parts") }
        var texts: [String] = []
        for (index, part) in parts.enumerated() {
            let partPath = "\(path)[\(index)]"
            let type = try FieldReader("\(partPath).type", part["type"]).requiredString()
            switch type {
            case "text":
                let text = try FieldReader("\(partPath).text", part["text"]).requiredString()
                if !text.isEmpty { texts.append(text) }
            case "refusal" where allowRefusal:
                let text = try FieldReader("\(partPath).refusal", part["refusal"]).requiredString()
                if !text.isEmpty { texts.append(text) }
            default:
                throw TranslationErrors.untranslatable("\(partPath).type", "only text parts are possible here, not '\(type)'", to: target)
            }
        }
        return texts
    }

    private static func userContent(_ content: JSONTree?, path: String, target: WireSchema) throws(SidecarError) -> [ChatBlock] {
        guard let content else { return [] }
        if let text = content.stringValue { return text.isEmpty ? [] : [.text(text)] }
        guard let parts = content.arrayValue else { throw TranslationErrors.invalid(path, "must be a string or an array of content parts") }
        var blocks: [ChatBlock] = []
        for (index, part) in parts.enumerated() {
            let partPath = "\(path)[\(index)]"
            let type = try FieldReader("\(partPath).type", part["type"]).requiredString()
            switch type {
            case "text":
                let text = try FieldReader("\(partPath).text", part["text"]).requiredString()
                if !text.isEmpty { blocks.append(.text(text)) }
            case "image_url":
                let url = try FieldReader("\(partPath).image_url.url", part["image_url"]?["url"]).requiredString()
                if let data = MediaTypes.parseDataURL(url) {
                    blocks.append(.image(.base64(mediaType: data.mediaType, data: data.data)))
                } else if MediaTypes.isHTTPURL(url) {
                    blocks.append(.image(.url(url)))
                } else {
                    throw TranslationErrors.invalid("\(partPath).image_url.url", "must be an http(s) URL or a base64 data: URL")
                }
            case "input_audio", "file":
                throw TranslationErrors.untranslatable("\(partPath).type", "'\(type)' parts are not supported", to: target)
            default:
                throw TranslationErrors.untranslatable("\(partPath).type", "unknown content part '\(type)'", to: target)
            }
        }
        return blocks
    }

    private static func toolCall(_ call: JSONTree, path: String, target: WireSchema) throws(SidecarError) -> ChatBlock {
        let type = try FieldReader("\(path).type", call["type"]).string() ?? "function"
        guard type == "function" else {
            throw TranslationErrors.untranslatable("\(path).type", "only function tool calls are possible, not '\(type)'", to: target)
        }
        let id = try FieldReader("\(path).id", call["id"]).requiredString()
        let name = try FieldReader("\(path).function.name", call["function"]?["name"]).requiredString()
        let arguments = try FieldReader("\(path).function.arguments", call["function"]?["arguments"]).string() ?? ""
        return .toolUse(id: id, name: name, input: try argumentsObject(arguments, path: "\(path).function.arguments", target: target))
    }

    /// OpenAI's arguments string as the JSON object Anthropic and Converse require.
    static func argumentsObject(_ arguments: String, path: String, target: WireSchema) throws(SidecarError) -> JSONTree {
        if arguments.allSatisfy(\.isWhitespace) { return .object([:]) }
        guard let tree = try? JSONTree(parsing: Array(arguments.utf8)), tree.objectValue != nil else {
            throw TranslationErrors.untranslatable(path, "the arguments must be a JSON object", to: target)
        }
        return tree
    }

    private static func readTools(_ tools: [JSONTree], target: WireSchema) throws(SidecarError) -> [ChatTool] {
        var result: [ChatTool] = []
        for (index, tool) in tools.enumerated() {
            let path = "tools[\(index)]"
            let type = try FieldReader("\(path).type", tool["type"]).string() ?? "function"
            guard type == "function" else {
                throw TranslationErrors.untranslatable("\(path).type", "only function tools are possible, not '\(type)'", to: target)
            }
            let function = tool["function"]
            let name = try FieldReader("\(path).function.name", function?["name"]).requiredString()
            let description = try FieldReader("\(path).function.description", function?["description"]).string()
            let schema = try FieldReader("\(path).function.parameters", function?["parameters"]).object().map(JSONTree.object)
            result.append(ChatTool(name: name, description: description, schema: schema ?? ["type": "object", "properties": [:]]))
        }
        return result
    }

    private static func readToolChoice(_ value: JSONTree) throws(SidecarError) -> ChatToolChoice? {
        if let mode = value.stringValue {
            switch mode {
            case "auto": return .auto
            case "none": return ChatToolChoice.none
            case "required": return .required
            default: throw TranslationErrors.invalid("tool_choice", "'\(mode)' is not auto, none or required")
            }
        }
        let type = try FieldReader("tool_choice.type", value["type"]).string() ?? "function"
        guard type == "function" else {
            throw SidecarError(.untranslatable, "'tool_choice' of type '\(type)' cannot be translated: only auto, none, required and a named function are.", parameter: "tool_choice")
        }
        let name = try FieldReader("tool_choice.function.name", value["function"]?["name"]).requiredString()
        return .tool(name)
    }
}
