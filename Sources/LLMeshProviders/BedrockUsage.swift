/// Reads token usage from Bedrock answers passed through untranslated (Converse, InvokeModel and their streams).
///
/// Normalised like every ``TokenUsage``: `input` counts every prompt token, so cache reads and cache writes (which
/// Bedrock reports apart from `inputTokens`) are added to it, and `cachedInput` is the cache reads. Each count is
/// clamped to `0...Int32.max` before the sum (``TokenCount``), so no answer can make it overflow.
public enum BedrockUsage {
    /// Usage from a Converse response body (`usage.inputTokens`, `outputTokens`, `cacheReadInputTokens`,
    /// `cacheWriteInputTokens`).
    public static func usage(inConverseResponse body: [UInt8]) -> TokenUsage? {
        guard let document = try? JSONDocument(validating: body), let node = document.value(at: "usage") else { return nil }
        return converseUsage(document, node)
    }

    /// Usage from InvokeModel response headers (`x-amzn-bedrock-input-token-count`, `-output-token-count`, and the
    /// `-cache-read-input-token-count` / `-cache-write-input-token-count` headers when present). Names match
    /// case-insensitively.
    public static func usage(inInvokeHeaders headers: [(String, String)]) -> TokenUsage? {
        func count(_ name: String) -> Int? {
            headers.first { $0.0.lowercased() == name }.flatMap { Int($0.1.trimmingSpaces) }.map(TokenCount.clamped)
        }
        guard let input = count("x-amzn-bedrock-input-token-count"), let output = count("x-amzn-bedrock-output-token-count") else { return nil }
        let cacheRead = count("x-amzn-bedrock-cache-read-input-token-count") ?? 0
        let cacheWrite = count("x-amzn-bedrock-cache-write-input-token-count") ?? 0
        return TokenUsage(input: input + cacheRead + cacheWrite, output: output, cachedInput: cacheRead)
    }

    /// Usage from an InvokeModel answer: the headers when Bedrock sent them, else the model-native body (Anthropic,
    /// OpenAI-shaped and similar `usage` objects).
    public static func usage(inInvokeResponse body: [UInt8], headers: [(String, String)]) -> TokenUsage? {
        usage(inInvokeHeaders: headers) ?? UsageReader.usage(inResponse: body, kind: .invoke)
    }

    static func converseUsage(_ document: JSONDocument, _ node: JSONNode) -> TokenUsage? {
        guard node.kind == .object else { return nil }
        func int(_ key: String) -> Int? { document.member(key, of: node).flatMap(document.int).map(TokenCount.clamped) }
        guard int("inputTokens") != nil || int("outputTokens") != nil else { return nil }
        let cacheRead = int("cacheReadInputTokens") ?? 0
        let cacheWrite = int("cacheWriteInputTokens") ?? 0
        return TokenUsage(input: (int("inputTokens") ?? 0) + cacheRead + cacheWrite, output: int("outputTokens") ?? 0, cachedInput: cacheRead)
    }

    /// `amazon-bedrock-invocationMetrics {inputTokenCount, outputTokenCount, cacheReadInputTokenCount?,
    /// cacheWriteInputTokenCount?}`.
    static func invocationMetricsUsage(_ document: JSONDocument, _ node: JSONNode) -> TokenUsage? {
        guard node.kind == .object else { return nil }
        func int(_ key: String) -> Int? { document.member(key, of: node).flatMap(document.int).map(TokenCount.clamped) }
        guard let input = int("inputTokenCount") else { return nil }
        let cacheRead = int("cacheReadInputTokenCount") ?? 0
        let cacheWrite = int("cacheWriteInputTokenCount") ?? 0
        return TokenUsage(input: input + cacheRead + cacheWrite, output: int("outputTokenCount") ?? 0, cachedInput: cacheRead)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}

/// Watches a Bedrock event stream passed through untranslated and reads its usage on the way.
///
/// - ConverseStream: usage from the final `metadata` event; the end is `messageStop` plus `metadata`.
/// - InvokeModelWithResponseStream: each `chunk` event's `{"bytes": "<base64>"}` is decoded; Bedrock's
///   `amazon-bedrock-invocationMetrics` (on the last chunk) wins, else the Anthropic-native `message_start.message.usage`
///   and `message_delta.usage`. The end is a chunk with invocation metrics, or `message_stop`.
/// - Exceptions (`:message-type exception` or `error`) are recorded in ``sawException`` by type.
public struct BedrockStreamAccounting: Sendable {
    /// Usage read so far.
    public private(set) var usage: TokenUsage?
    /// Whether the stream's normal end was seen.
    public private(set) var sawEnd = false
    /// The `:exception-type` (or `:error-code`) of an exception the stream carried.
    public private(set) var sawException: String?
    private var sawMessageStop = false
    private var sawMetadata = false
    private var hasInvocationMetrics = false

    public init() {}

    public mutating func process(_ message: AWSEventStreamMessage) {
        switch message.messageType {
        case "exception":
            sawException = message.exceptionType ?? "exception"
            return
        case "error":
            sawException = message.string(":error-code") ?? "error"
            return
        default:
            break
        }
        switch message.eventType {
        case "messageStop":
            sawMessageStop = true
        case "metadata":
            sawMetadata = true
            if let document = try? JSONDocument(validating: message.payload), let node = document.value(at: "usage") {
                usage = BedrockUsage.converseUsage(document, node) ?? usage
            }
        case "chunk":
            processChunk(message.payload)
        default:
            break
        }
        if sawMessageStop && sawMetadata { sawEnd = true }
    }

    private mutating func processChunk(_ payload: [UInt8]) {
        guard let outer = try? JSONDocument(validating: payload), let encoded = outer.value(at: "bytes").flatMap(outer.string),
              let decoded = Base64Text.decode(encoded), let document = try? JSONDocument(validating: decoded) else { return }
        if let metrics = document.value(at: "amazon-bedrock-invocationMetrics"), let parsed = BedrockUsage.invocationMetricsUsage(document, metrics) {
            usage = parsed
            hasInvocationMetrics = true
            sawEnd = true
        }
        switch document.value(at: "type").flatMap(document.string) {
        case "message_start":
            guard !hasInvocationMetrics, let node = document.value(at: "message", "usage") else { return }
            usage = UsageReader.usage(in: document, node: node) ?? usage
        case "message_delta":
            guard !hasInvocationMetrics, let node = document.value(at: "usage"), let later = UsageReader.usage(in: document, node: node) else { return }
            var merged = usage ?? TokenUsage()
            merged.output = max(merged.output, later.output)
            if later.input > 0 {
                merged.input = later.input
                merged.cachedInput = later.cachedInput
            }
            usage = merged
        case "message_stop":
            sawEnd = true
        case "error":
            sawException = document.value(at: "error", "type").flatMap(document.string) ?? "error"
        default:
            break
        }
    }
}
