/// The request and response shapes the translators speak.
public enum WireSchema: String, Sendable, Hashable {
    /// OpenAI Chat Completions (`/v1/chat/completions`), also spoken by OpenAI-compatible servers.
    case openAIChat
    /// Anthropic Messages (`/v1/messages`).
    case anthropicMessages
    /// AWS Bedrock Runtime Converse / ConverseStream (`/model/{id}/converse[-stream]`).
    case bedrockConverse

    /// The name used in refusal messages.
    var displayName: String {
        switch self {
        case .openAIChat: return "OpenAI Chat Completions"
        case .anthropicMessages: return "Anthropic Messages"
        case .bedrockConverse: return "Bedrock Converse"
        }
    }
}

/// A request body re-shaped for the upstream's schema.
public struct TranslatedRequest: Sendable {
    /// The body to send upstream.
    public var body: [UInt8]
    /// Whether the caller asked for a stream (for Converse this picks `converse-stream`; the body does not say).
    public var stream: Bool

    public init(body: [UInt8], stream: Bool) {
        self.body = body
        self.stream = stream
    }
}
