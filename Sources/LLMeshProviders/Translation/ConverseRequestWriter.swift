/// Writes a ``ChatRequest`` as a Bedrock Converse body (from an OpenAI Chat or Anthropic Messages caller).
///
/// The model id travels in the path (`/model/{id}/converse[-stream]`), never in the body; streaming is chosen by
/// the path too. Decisions:
/// - System blocks → `system[{text}]`; turns alternate (merged), content blocks `{text}`, `{image{format,
///   source.bytes}}` (png, jpeg, gif, webp), `{document{format: pdf|txt, name, source.bytes}}` (the name is the
///   document's title when Converse accepts it as a name, else `document-N`), `{toolUse{toolUseId, name, input}}`,
///   `{toolResult{toolUseId, content[{text}|{image}|{json}], status: error?}}`, thinking →
///   `{reasoningContent{reasoningText{text, signature}}}`, redacted thinking → `{reasoningContent{redactedContent}}`,
///   prompt-cache checkpoints → `{cachePoint{type: default, ttl?}}` after the system block, content block or tool
///   they follow.
/// - `maxTokens`, `temperature`, `topP`, `stopSequences` → `inferenceConfig`; `top_k` and Anthropic `thinking` →
///   `additionalModelRequestFields` (understood by Anthropic models on Bedrock; other models reject them upstream).
/// - Tools → `toolConfig.tools[{toolSpec{name, description, inputSchema{json}}}]`; `tool_choice` auto/required/named →
///   `toolChoice{auto|any|tool{name}}`; `none` omits `toolConfig`.
/// - The end-user id is dropped (Converse has no such field; `requestMetadata` only labels invocation logs).
/// - Refused (400): image URLs (Converse takes only inline bytes or S3), `tool_choice: none` when the conversation
///   already holds tool calls (Converse then requires `toolConfig`), and at most one tool call per turn
///   (`parallel_tool_calls: false` / `disable_parallel_tool_use`), which Converse cannot express.
enum ConverseRequestWriter {
    static func write(_ request: ChatRequest) throws(SidecarError) -> JSONTree {
        let target = WireSchema.bedrockConverse
        var body: JSONObject = [:]
        var messages: [JSONTree] = []
        var documentCount = 0
        var documentNames: Set<String> = []
        for (index, message) in request.messages.enumerated() {
            var blocks: [JSONTree] = []
            for block in message.content {
                let path = "messages[\(index)].content"
                switch block {
                case .text(let text):
                    blocks.append(["text": .string(text)])
                case .image(let image):
                    blocks.append(try write(image, path: path))
                case .document(let document):
                    documentCount += 1
                    blocks.append(write(document, number: documentCount, names: &documentNames))
                case .toolUse(let id, let name, let input):
                    blocks.append(["toolUse": ["toolUseId": .string(id), "name": .string(name), "input": input]])
                case .toolResult(let id, let content, let isError):
                    var parts: [JSONTree] = []
                    for part in content {
                        switch part {
                        case .text(let text): parts.append(["text": .string(text)])
                        case .json(let value): parts.append(["json": value])
                        case .image(let image): parts.append(try write(image, path: path))
                        }
                    }
                    var result: JSONObject = ["toolUseId": .string(id), "content": .array(parts)]
                    if isError { result["status"] = "error" }
                    blocks.append(["toolResult": .object(result)])
                case .thinking(let text, let signature):
                    var reasoning: JSONObject = ["text": .string(text)]
                    reasoning.setIfPresent("signature", signature.map(JSONTree.string))
                    blocks.append(["reasoningContent": ["reasoningText": .object(reasoning)]])
                case .redactedThinking(let data):
                    blocks.append(["reasoningContent": ["redactedContent": .string(data)]])
                case .cachePoint(let point):
                    blocks.append(write(point))
                }
            }
            if !blocks.isEmpty { messages.append(["role": .string(message.role.rawValue), "content": .array(blocks)]) }
        }
        body["messages"] = .array(messages)
        if !request.system.isEmpty {
            var system: [JSONTree] = []
            for (index, text) in request.system.enumerated() {
                system.append(["text": .string(text)])
                if let point = request.systemCachePoints[index] { system.append(write(point)) }
            }
            body["system"] = .array(system)
        }
        var inference: JSONObject = [:]
        inference.setIfPresent("maxTokens", request.maxTokens.map(JSONTree.int))
        inference.setIfPresent("temperature", request.temperature)
        inference.setIfPresent("topP", request.topP)
        if !request.stopSequences.isEmpty { inference["stopSequences"] = .array(request.stopSequences.map(JSONTree.string)) }
        if !inference.isEmpty { body["inferenceConfig"] = .object(inference) }
        if let toolConfig = try toolConfig(request, target: target) { body["toolConfig"] = toolConfig }
        var additional: JSONObject = [:]
        additional.setIfPresent("top_k", request.topK.map(JSONTree.int))
        additional.setIfPresent("thinking", request.thinking)
        if !additional.isEmpty { body["additionalModelRequestFields"] = .object(additional) }
        return .object(body)
    }

    private static func toolConfig(_ request: ChatRequest, target: WireSchema) throws(SidecarError) -> JSONTree? {
        guard !request.tools.isEmpty else { return nil }
        if request.toolChoice == ChatToolChoice.none {
            guard !request.hasToolBlocks else {
                throw TranslationErrors.untranslatable("tool_choice", "'none' cannot be expressed once the conversation holds tool calls", to: target)
            }
            return nil
        }
        if request.parallelToolCalls == false {
            throw TranslationErrors.untranslatable("parallel_tool_calls", "limiting the model to one tool call per turn is not possible", to: target)
        }
        var config: JSONObject = [
            "tools": .array(request.tools.flatMap { tool -> [JSONTree] in
                var spec: JSONObject = ["name": .string(tool.name)]
                spec.setIfPresent("description", tool.description.map(JSONTree.string))
                spec["inputSchema"] = ["json": tool.schema]
                return [["toolSpec": .object(spec)]] + (tool.cachePoint.map { [write($0)] } ?? [])
            })
        ]
        switch request.toolChoice {
        case .some(.auto): config["toolChoice"] = ["auto": [:]]
        case .some(.required): config["toolChoice"] = ["any": [:]]
        case .some(.tool(let name)): config["toolChoice"] = ["tool": ["name": .string(name)]]
        case nil, .some(.none): break
        }
        return .object(config)
    }

    private static func write(_ point: ChatCachePoint) -> JSONTree {
        var cachePoint: JSONObject = ["type": "default"]
        cachePoint.setIfPresent("ttl", point.ttl.map(JSONTree.string))
        return ["cachePoint": .object(cachePoint)]
    }

    private static func write(_ image: ChatImage, path: String) throws(SidecarError) -> JSONTree {
        switch image {
        case .base64(let mediaType, let data):
            guard let format = MediaTypes.converseImageFormat(mediaType) else {
                throw TranslationErrors.untranslatable(path, "image type '\(mediaType)' is not one of png, jpeg, gif, webp", to: .bedrockConverse)
            }
            return ["image": ["format": .string(format), "source": ["bytes": .string(data)]]]
        case .url:
            throw TranslationErrors.untranslatable(path, "Converse takes images only as inline bytes; send the image as a base64 data: URL", to: .bedrockConverse)
        }
    }

    private static func write(_ document: ChatDocument, number: Int, names: inout Set<String>) -> JSONTree {
        let format: String
        let bytes: String
        let title: String?
        switch document {
        case .pdf(let data, let documentTitle):
            (format, bytes, title) = ("pdf", data, documentTitle)
        case .plainText(let text, let documentTitle):
            (format, bytes, title) = ("txt", Base64Text.encode(Array(text.utf8)), documentTitle)
        }
        var name = title.flatMap { isValidDocumentName($0) ? $0 : nil } ?? "document-\(number)"
        if names.contains(name) { name = "document-\(number)" }
        names.insert(name)
        return ["document": ["format": .string(format), "name": .string(name), "source": ["bytes": .string(bytes)]]]
    }

    /// Converse document names: letters, digits, single spaces, hyphens, parentheses and square brackets.
    static func isValidDocumentName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 200, !name.contains("  "), name.first != " ", name.last != " " else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", " ", "-", "(", ")", "[", "]": return true
            default: return false
            }
        }
    }
}
