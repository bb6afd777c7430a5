/// The wire dialect a caller speaks, which decides the shape of every answer the sidecar makes itself.
public enum APIDialect: String, Sendable, Hashable, Codable {
    case openAI
    case anthropic
    /// AWS Bedrock Runtime (rest-json): errors are `{"message": …}` with an `x-amzn-errortype` header.
    case bedrock

    /// The name used in messages: "OpenAI", "Anthropic" or "Bedrock".
    public var displayName: String {
        switch self {
        case .openAI: return "OpenAI"
        case .anthropic: return "Anthropic"
        case .bedrock: return "Bedrock"
        }
    }
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
    case converse = "bedrock.converse"
    case converseStream = "bedrock.converse_stream"
    case invoke = "bedrock.invoke"
    case invokeStream = "bedrock.invoke_with_response_stream"

    /// The Bedrock Runtime operations, whose model id travels in the path.
    public var isBedrock: Bool {
        switch self {
        case .converse, .converseStream, .invoke, .invokeStream: return true
        default: return false
        }
    }

    /// The dialect of requests and answers for this operation.
    public var dialect: APIDialect {
        switch self {
        case .messages, .countTokens: return .anthropic
        case .converse, .converseStream, .invoke, .invokeStream: return .bedrock
        default: return .openAI
        }
    }

    /// The OpenTelemetry GenAI `gen_ai.operation.name`.
    public var operationName: String {
        switch self {
        case .chatCompletions, .messages, .converse, .converseStream, .invoke, .invokeStream: return "chat"
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
        case .converse: return "/converse"
        case .converseStream: return "/converse-stream"
        case .invoke: return "/invoke"
        case .invokeStream: return "/invoke-with-response-stream"
        }
    }

    /// Whether the operation may answer with a Server-Sent Events stream.
    public var canStream: Bool {
        switch self {
        case .chatCompletions, .completions, .responses, .messages, .converseStream, .invokeStream: return true
        case .embeddings, .models, .countTokens, .converse, .invoke: return false
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
        default:
            guard let bedrock = BedrockPath(path: trimmed) else { return .unknownPath }
            kind = bedrock.kind
        }
        let expected = kind == .models ? "GET" : "POST"
        return method == expected ? .api(kind) : .methodNotAllowed(allowed: expected)
    }
}

/// A Bedrock Runtime path, `/model/{modelId}/{operation}`, with the model id decoded from its wire form.
///
/// botocore percent-encodes the model id as one path label (`:` → `%3A`, and an ARN's `/` → `%2F`), so the id is one
/// segment on the wire; it is decoded once here.
public struct BedrockPath: Sendable, Hashable {
    /// Longest model id Bedrock accepts (an inference-profile or provisioned-throughput ARN).
    public static let maximumModelIDLength = 2048
    public var modelID: String
    public var kind: APIKind

    public init?<Path: StringProtocol>(path: Path) {
        guard path.hasPrefix("/model/") else { return nil }
        let rest = path.dropFirst("/model/".count)
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let encoded = rest[..<slash]
        switch rest[rest.index(after: slash)...] {
        case "converse": kind = .converse
        case "converse-stream": kind = .converseStream
        case "invoke": kind = .invoke
        case "invoke-with-response-stream": kind = .invokeStream
        default: return nil
        }
        guard !encoded.isEmpty, !encoded.contains("/"), let decoded = PercentDecoding.decode(encoded),
              !decoded.isEmpty, decoded.utf8.count <= Self.maximumModelIDLength else { return nil }
        modelID = decoded
    }
}

/// Strict percent-decoding of one path segment: a `%` must be followed by two hex digits, and the result must be UTF-8.
enum PercentDecoding {
    static func decode<Text: StringProtocol>(_ text: Text) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }
}
