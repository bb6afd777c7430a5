/// The schema-neutral form of a chat request that every request translator reads into and writes from.
///
/// It holds only what all supported schemas can say, or what at least one target can say and the others refuse
/// (image URLs, documents, `top_k`, thinking); anything else is refused or dropped while reading.
struct ChatRequest: Sendable {
    /// System prompt blocks, in order.
    var system: [String] = []
    /// Prompt-cache checkpoints after system blocks, by the index of the block they follow.
    var systemCachePoints: [Int: ChatCachePoint] = [:]
    var messages: [ChatMessage] = []
    var maxTokens: Int?
    /// Kept as the caller wrote the number.
    var temperature: JSONTree?
    var topP: JSONTree?
    var topK: Int?
    var stopSequences: [String] = []
    var stream = false
    var tools: [ChatTool] = []
    var toolChoice: ChatToolChoice?
    /// `false` when the caller allows at most one tool call per turn.
    var parallelToolCalls: Bool?
    /// An opaque end-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    var userID: String?
    /// Anthropic's `thinking` configuration when enabled, kept verbatim.
    var thinking: JSONTree?

    /// Appends `content` as a turn of `role`, merging with the previous turn of the same role (Anthropic and
    /// Converse require alternating roles; OpenAI's separate `tool` messages all become one user turn).
    mutating func append(_ role: ChatRole, _ content: [ChatBlock]) {
        guard !content.isEmpty else { return }
        if let last = messages.indices.last, messages[last].role == role {
            messages[last].content.append(contentsOf: content)
        } else {
            messages.append(ChatMessage(role: role, content: content))
        }
    }

    /// Whether any turn holds a tool call or a tool result.
    var hasToolBlocks: Bool {
        messages.contains { message in
            message.content.contains {
                switch $0 {
                case .toolUse, .toolResult: return true
                default: return false
                }
            }
        }
    }
}

/// Who speaks a turn.
enum ChatRole: String, Sendable {
    case user, assistant
}

/// One turn of the conversation.
struct ChatMessage: Sendable {
    var role: ChatRole
    var content: [ChatBlock]
}

/// A piece of a turn.
enum ChatBlock: Sendable {
    case text(String)
    case image(ChatImage)
    case document(ChatDocument)
    case toolUse(id: String, name: String, input: JSONTree)
    case toolResult(id: String, content: [ChatToolResultPart], isError: Bool)
    case thinking(text: String, signature: String?)
    case redactedThinking(data: String)
    /// A prompt-cache checkpoint: everything before it in the prompt may be cached (Anthropic `cache_control` on
    /// the block before, Converse `cachePoint`).
    case cachePoint(ChatCachePoint)
}

/// A prompt-cache checkpoint.
struct ChatCachePoint: Sendable, Equatable {
    /// `5m` or `1h`; nil for the provider's default (five minutes).
    var ttl: String?
}

/// Where an image comes from.
enum ChatImage: Sendable {
    case base64(mediaType: String, data: String)
    case url(String)
}

/// A document (Anthropic `document` blocks).
enum ChatDocument: Sendable {
    case pdf(base64: String, title: String?)
    case plainText(String, title: String?)
}

/// A piece of a tool result.
enum ChatToolResultPart: Sendable {
    case text(String)
    case image(ChatImage)
    case json(JSONTree)
}

/// A function the model may call.
struct ChatTool: Sendable {
    var name: String
    var description: String?
    /// JSON Schema of the arguments object.
    var schema: JSONTree
    /// A prompt-cache checkpoint after this tool's definition.
    var cachePoint: ChatCachePoint?
}

/// How the model must use the tools.
enum ChatToolChoice: Sendable, Equatable {
    case auto, none, required
    case tool(String)
}
