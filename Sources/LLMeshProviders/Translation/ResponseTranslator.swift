/// Re-shapes an upstream's answer for the caller. `from` is the upstream's schema, `to` the caller's.
///
/// Supported (upstream → caller): Anthropic → OpenAI, Converse → OpenAI, Converse → Anthropic, OpenAI → Anthropic;
/// identical schemas pass through unchanged. Error answers can be rewritten between any two schemas.
public enum ResponseTranslator {
    /// A successful non-streamed answer, re-shaped for the caller; `requestModel` is the name the caller asked for.
    public static func translate(_ body: [UInt8], from source: WireSchema, to target: WireSchema, requestModel: String, id: String, created: Int) throws(SidecarError) -> (body: [UInt8], usage: TokenUsage?) {
        let tree = try TranslationErrors.upstreamObject(body)
        if source == target { return (body, (try? read(tree, source))?.usage?.tokenUsage) }
        let response = try read(tree, source)
        switch target {
        case .openAIChat:
            return (ResponseWriters.openAI(response, model: requestModel, id: id, created: created).serialized, response.usage?.tokenUsage)
        case .anthropicMessages:
            return (ResponseWriters.anthropic(response, model: requestModel, id: id).serialized, response.usage?.tokenUsage)
        case .bedrockConverse:
            throw TranslationErrors.unsupportedPair(from: source, to: target)
        }
    }

    private static func read(_ tree: JSONTree, _ source: WireSchema) throws(SidecarError) -> ChatResponse {
        switch source {
        case .anthropicMessages: return try ResponseReaders.anthropic(tree)
        case .bedrockConverse: return try ResponseReaders.converse(tree)
        case .openAIChat: return try ResponseReaders.openAI(tree)
        }
    }

    /// An upstream error answer (status >= 400) in the caller's dialect, keeping the upstream's message; `headers` lets you read Bedrock's `x-amzn-errortype`.
    ///
    /// With identical schemas the body is returned unchanged.
    public static func translateError(status: Int, headers: [(String, String)], body: [UInt8], from source: WireSchema, to target: WireSchema) -> [UInt8] {
        if source == target { return body }
        return UpstreamError(status: status, headers: headers, body: body, schema: source).body(for: target).serialized
    }
}
