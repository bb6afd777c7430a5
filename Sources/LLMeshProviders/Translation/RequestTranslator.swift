/// Re-shapes a caller's request body for an upstream that speaks another schema.
///
/// Supported pairs (caller → upstream): OpenAI Chat → Anthropic Messages, OpenAI Chat → Bedrock Converse,
/// Anthropic Messages → Bedrock Converse, Anthropic Messages → OpenAI Chat. Each reader and writer file lists what
/// maps, what is dropped (only what cannot change the answer) and what is refused with 400 `untranslatable_request`
/// naming the field. A Converse caller is not translated (no pair needs it). For identical schemas the body is
/// passed on with only `model` replaced.
public enum RequestTranslator {
    /// `upstreamModel` goes into the body's `model` (OpenAI/Anthropic); Converse carries the model in the path, not the body.
    public static func translate(_ body: [UInt8], from source: WireSchema, to target: WireSchema, upstreamModel: String) throws(SidecarError) -> TranslatedRequest {
        let root = try TranslationErrors.requestObject(body)
        if source == target { return sameSchema(body, root: root, schema: target, upstreamModel: upstreamModel) }
        let request: ChatRequest
        switch source {
        case .openAIChat: request = try OpenAIChatRequestReader.read(root, target: target)
        case .anthropicMessages: request = try AnthropicRequestReader.read(root, target: target)
        case .bedrockConverse: throw TranslationErrors.unsupportedPair(from: source, to: target)
        }
        let written: JSONTree
        switch target {
        case .anthropicMessages: written = try AnthropicRequestWriter.write(request, model: upstreamModel)
        case .bedrockConverse: written = try ConverseRequestWriter.write(request)
        case .openAIChat: written = try OpenAIChatRequestWriter.write(request, model: upstreamModel)
        }
        return TranslatedRequest(body: written.serialized, stream: request.stream)
    }

    /// The body byte for byte, with only the value of `model` replaced (Converse bodies have none).
    private static func sameSchema(_ body: [UInt8], root: JSONObject, schema: WireSchema, upstreamModel: String) -> TranslatedRequest {
        let stream = root["stream"]?.boolValue ?? false
        guard schema != .bedrockConverse, let document = try? JSONDocument(validating: body) else {
            return TranslatedRequest(body: body, stream: stream)
        }
        let model = Array(JSONText.quoted(upstreamModel).utf8)
        var output = body
        if let member = document.members(of: document.root).first(where: { $0.key == "model" }) {
            output.replaceSubrange(member.value.range, with: model)
        } else {
            let closing = document.root.range.upperBound - 1
            let prefix = document.members(of: document.root).isEmpty ? "" : ","
            output.replaceSubrange(closing..<closing, with: Array("\(prefix)\"model\":".utf8) + model)
        }
        return TranslatedRequest(body: output, stream: stream)
    }
}
