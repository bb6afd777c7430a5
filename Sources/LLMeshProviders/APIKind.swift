/// The wire dialect a caller speaks, which decides the shape of every answer the sidecar makes itself.
public enum APIDialect: String, Sendable, Hashable, Codable {
    case openAI
    case anthropic
}

/// The LLM API operations the sidecar serves, classified from method and path.
public enum APIKind: String, Sendable, Hashable, Codable, CaseIterable {
    case chatCompletions = "chat.completions"
    case completions = "completions"
    case embeddings = "embeddings"
    case responses = "responses"
    case models = "models"
    case messages = "messages"
    case countTokens = "messages.count_tokens"

    /// The dialect of requests and answers for this operation.
    public var dialect: APIDialect {
        switch self {
        case .messages, .countTokens: return .anthropic
        default: return .openAI
        }
    }

    /// The OpenTelemetry GenAI `gen_ai.operation.name`.
    public var operationName: String {
        switch self {
        case .chatCompletions, .messages: return "chat"
        case .completions: return "text_completion"
        case .embeddings: return "embeddings"
        case .responses: return "generate_content"
        case .models: return "list_models"
        case .countTokens: return "count_tokens"
        }
    }

    /// Path relative to the provider's base URL (OpenAI bases end in `/v1`, Anthropic bases do not).
    public var upstreamPath: String {
        switch self {
        case .chatCompletions: return "/chat/completions"
        case .completions: return "/completions"
        case .embeddings: return "/embeddings"
        case .responses: return "/responses"
        case .models: return "/models"
        case .messages: return "/v1/messages"
        case .countTokens: return "/v1/messages/count_tokens"
        }
    }

    /// Whether the operation may answer with a Server-Sent Events stream.
    public var canStream: Bool {
        switch self {
        case .chatCompletions, .completions, .responses, .messages: return true
        case .embeddings, .models, .countTokens: return false
        }
    }

    /// The result of classifying a request line.
    public enum Classification: Sendable, Equatable {
        case api(APIKind)
        case methodNotAllowed(allowed: String)
        case unknownPath
    }

    /// Classifies `method` and `path` (the query string, if any, is ignored).
    public static func classify(method: String, path rawPath: String) -> Classification {
        let path = rawPath.prefix { $0 != "?" }
        let trimmed = path.hasSuffix("/") && path.count > 1 ? path.dropLast() : path
        let kind: APIKind
        switch trimmed {
        case "/v1/chat/completions", "/chat/completions": kind = .chatCompletions
        case "/v1/completions", "/completions": kind = .completions
        case "/v1/embeddings", "/embeddings": kind = .embeddings
        case "/v1/responses", "/responses": kind = .responses
        case "/v1/models", "/models": kind = .models
        case "/v1/messages": kind = .messages
        case "/v1/messages/count_tokens": kind = .countTokens
        default: return .unknownPath
        }
        let expected = kind == .models ? "GET" : "POST"
        return method == expected ? .api(kind) : .methodNotAllowed(allowed: expected)
    }
}
