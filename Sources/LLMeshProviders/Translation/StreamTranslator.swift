/// Translates a streamed answer event by event, from the upstream's schema (`from`) to the caller's SSE (`to`).
///
/// Supported (upstream → caller): Anthropic SSE → OpenAI chunks, ConverseStream → OpenAI chunks, ConverseStream →
/// Anthropic SSE, OpenAI chunks → Anthropic SSE. With identical schemas events pass through untouched (and are still
/// read for usage). Nothing is buffered beyond the current event: each `feed` returns the bytes to send now.
///
/// An upstream failure (Bedrock `:message-type exception`, Anthropic `event: error`, OpenAI `{"error":…}` data, or an
/// event that is not JSON) is written as an error event in the caller's dialect, keeping the upstream's message,
/// and sets ``failure``; everything after it is ignored. ``sawEnd`` tells a clean upstream end from a truncated one.
public struct StreamTranslator: Sendable {
    private enum Reader: Sendable {
        case anthropic(AnthropicStreamReader)
        case openAI(OpenAIStreamReader)
        case converse(ConverseStreamReader)
    }

    private enum Writer: Sendable {
        case openAI(OpenAIStreamWriter)
        case anthropic(AnthropicStreamWriter)
        case passThrough
        case unsupported
    }

    private var reader: Reader
    private var writer: Writer
    public private(set) var sawEnd = false
    public private(set) var failure: SidecarError?

    public init(from source: WireSchema, to target: WireSchema, requestModel: String, includeUsage: Bool, id: String, created: Int) {
        switch source {
        case .anthropicMessages: reader = .anthropic(AnthropicStreamReader())
        case .openAIChat: reader = .openAI(OpenAIStreamReader())
        case .bedrockConverse: reader = .converse(ConverseStreamReader())
        }
        if source == target {
            writer = .passThrough
        } else {
            switch target {
            case .openAIChat: writer = .openAI(OpenAIStreamWriter(model: requestModel, id: id, created: created, includeUsage: includeUsage))
            case .anthropicMessages: writer = .anthropic(AnthropicStreamWriter(model: requestModel, id: id))
            case .bedrockConverse:
                writer = .unsupported
                failure = TranslationErrors.unsupportedPair(from: source, to: target)
            }
        }
    }

    /// Usage read so far, normalised (input includes cached tokens).
    public var usage: TokenUsage? { counts?.tokenUsage }

    private var counts: UsageCounts? {
        switch reader {
        case .anthropic(let reader): return reader.usage
        case .openAI(let reader): return reader.usage
        case .converse(let reader): return reader.usage
        }
    }

    /// One upstream OpenAI or Anthropic SSE event; returns the caller-side bytes it produces.
    public mutating func feed(_ event: SSEEvent) -> [UInt8] {
        let events: [ChatStreamEvent]
        switch reader {
        case .anthropic(var state):
            events = state.read(event)
            reader = .anthropic(state)
        case .openAI(var state):
            events = state.read(event)
            reader = .openAI(state)
        case .converse:
            return []
        }
        if case .passThrough = writer {
            observe(events)
            return event.raw
        }
        return write(events)
    }

    /// One upstream Bedrock ConverseStream message; returns the caller-side bytes it produces.
    public mutating func feed(_ message: AWSEventStreamMessage) -> [UInt8] {
        guard case .converse(var state) = reader else { return [] }
        let events = state.read(message)
        reader = .converse(state)
        if case .passThrough = writer {
            observe(events)
            return message.raw
        }
        return write(events)
    }

    /// Anything still owed after a clean upstream end (e.g. OpenAI "data: [DONE]").
    ///
    /// Normally the caller's stream is already complete when the upstream's final event arrives, and this returns
    /// nothing. When the upstream gave its stop reason but not its final event (no `[DONE]`, no `metadata`), the answer
    /// itself is complete: the caller's stream is closed properly and ``sawEnd`` becomes `true`. When it ended
    /// earlier nothing is written and ``sawEnd`` stays `false`, so the sidecar reports the truncation.
    public mutating func finish() -> [UInt8] {
        guard failure == nil, !sawEnd else { return [] }
        var output: [UInt8] = []
        switch writer {
        case .openAI(var state):
            output = state.finish(usage: counts)
            writer = .openAI(state)
        case .anthropic(var state):
            output = state.finish(usage: counts)
            writer = .anthropic(state)
        case .passThrough, .unsupported:
            return []
        }
        if !output.isEmpty { sawEnd = true }
        return output
    }

    private mutating func observe(_ events: [ChatStreamEvent]) {
        for event in events {
            switch event {
            case .end: sawEnd = true
            case .failure(let error): if failure == nil { failure = error.sidecarError }
            default: continue
            }
        }
    }

    private mutating func write(_ events: [ChatStreamEvent]) -> [UInt8] {
        guard failure == nil else { return [] }
        var output: [UInt8] = []
        for event in events {
            switch event {
            case .end: sawEnd = true
            case .failure(let error): failure = error.sidecarError
            default: break
            }
            switch writer {
            case .openAI(var state):
                output += state.write(event, usage: counts)
                writer = .openAI(state)
            case .anthropic(var state):
                output += state.write(event, usage: counts)
                writer = .anthropic(state)
            case .passThrough, .unsupported:
                break
            }
            if failure != nil { break }
        }
        return output
    }
}
