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
        if source == target {
            var same = root
            if target != .bedrockConverse { same["model"] = .string(upstreamModel) }
            let stream = (try? FieldReader("stream", root["stream"]).bool()) ?? nil
            return TranslatedRequest(body: JSONTree.object(same).serialized, stream: stream ?? false)
        }
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
}
