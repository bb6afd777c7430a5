import LLMeshProviders
import NIOCore

/// Turns an upstream stream, chunk by chunk, into the bytes the caller gets, reading usage on the way.
///
/// One conformer per combination of upstream framing (Server-Sent Events or AWS event stream) and whether the schema is
/// translated; the relay loop (``LLMRequestHandler/relayStream(status:headers:first:rest:framing:context:response:trace:)``)
/// is the same for all.
protocol StreamFraming: Sendable {
    /// The bytes to send on for one upstream chunk (possibly none).
    mutating func feed(_ chunk: ByteBufferView) -> [UInt8]
    /// Whatever is still owed after the upstream ended.
    mutating func finish() -> [UInt8]
    var usage: TokenUsage? { get }
    /// Whether the upstream sent its final event.
    var sawEnd: Bool { get }
    /// An error the upstream itself reported inside the stream (already relayed to the caller in its dialect).
    var upstreamFailure: SidecarError? { get }
    /// The event that ends a broken stream in the caller's framing, so SDKs raise instead of ending cleanly.
    func errorEvent(_ error: SidecarError) -> [UInt8]
    /// A trailer with usage and cost, where the caller's framing can carry one that SDKs ignore.
    func usageTrailer(_ usage: TokenUsage, costUSD: Double) -> [UInt8]
}

/// An SSE stream in the caller's own schema: passed through byte for byte, usage read from its events.
struct SSEPassThrough: StreamFraming {
    private var decoder = SSEDecoder()
    private var accounting: StreamAccounting
    let dialect: APIDialect

    init(kind: APIKind, hideInjectedUsage: Bool) {
        accounting = StreamAccounting(kind: kind, hideInjectedUsage: hideInjectedUsage)
        dialect = kind.dialect
    }

    mutating func feed(_ chunk: ByteBufferView) -> [UInt8] {
        var out: [UInt8] = []
        for item in decoder.feed(chunk) {
            switch item {
            case .event(let event):
                if let bytes = accounting.process(event) { out.append(contentsOf: bytes) }
            case .unparsed(let bytes):
                out.append(contentsOf: bytes)
            }
        }
        return out
    }

    mutating func finish() -> [UInt8] { decoder.finish() }
    var usage: TokenUsage? { accounting.usage }
    var sawEnd: Bool { accounting.sawEnd }
    var upstreamFailure: SidecarError? { nil }
    func errorEvent(_ error: SidecarError) -> [UInt8] { SSEErrorEvent.bytes(error, dialect: dialect) }
    func usageTrailer(_ usage: TokenUsage, costUSD: Double) -> [UInt8] { StreamAccounting.usageComment(usage, costUSD: costUSD) }
}

/// A Bedrock event stream relayed to a Bedrock caller: bytes pass through as they arrive, a side decoder reads usage.
///
/// A frame the decoder rejects stops the accounting, not the relay: the caller's SDK checks the checksums itself.
struct EventStreamPassThrough: StreamFraming {
    private var decoder = AWSEventStreamDecoder()
    private var accounting = BedrockStreamAccounting()
    private var decoding = true

    mutating func feed(_ chunk: ByteBufferView) -> [UInt8] {
        if decoding {
            do {
                for message in try decoder.feed(chunk) { accounting.process(message) }
            } catch {
                decoding = false
            }
        }
        return Array(chunk)
    }

    mutating func finish() -> [UInt8] { [] }
    var usage: TokenUsage? { accounting.usage }
    var sawEnd: Bool { accounting.sawEnd || accounting.sawException != nil }
    var upstreamFailure: SidecarError? {
        accounting.sawException.map { SidecarError(.upstreamProtocolError, "Bedrock ended the stream with \($0).") }
    }
    func errorEvent(_ error: SidecarError) -> [UInt8] { BedrockErrorFrame.bytes(error) }
    func usageTrailer(_ usage: TokenUsage, costUSD: Double) -> [UInt8] { [] }
}

/// An upstream SSE stream (OpenAI or Anthropic) re-shaped into the caller's schema.
struct TranslatedSSE: StreamFraming {
    private var decoder = SSEDecoder()
    private var translator: StreamTranslator
    let dialect: APIDialect

    init(translator: StreamTranslator, dialect: APIDialect) {
        self.translator = translator
        self.dialect = dialect
    }

    mutating func feed(_ chunk: ByteBufferView) -> [UInt8] {
        var out: [UInt8] = []
        // Events with neither a name nor data (stray blank lines, comment-only keep-alives) carry nothing to translate.
        for case .event(let event) in decoder.feed(chunk) where event.name != nil || !event.data.isEmpty {
            out.append(contentsOf: translator.feed(event))
        }
        return out
    }

    mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        // A last event without its closing blank line still counts.
        let tail = decoder.finish()
        if !tail.isEmpty {
            var last = SSEDecoder()
            for case .event(let event) in last.feed(tail + [0x0A, 0x0A]) where event.name != nil || !event.data.isEmpty {
                out.append(contentsOf: translator.feed(event))
            }
        }
        out.append(contentsOf: translator.finish())
        return out
    }

    var usage: TokenUsage? { translator.usage }
    var sawEnd: Bool { translator.sawEnd }
    var upstreamFailure: SidecarError? { translator.failure }
    func errorEvent(_ error: SidecarError) -> [UInt8] { SSEErrorEvent.bytes(error, dialect: dialect) }
    func usageTrailer(_ usage: TokenUsage, costUSD: Double) -> [UInt8] { StreamAccounting.usageComment(usage, costUSD: costUSD) }
}

/// A Bedrock ConverseStream re-shaped into the caller's SSE schema.
struct TranslatedEventStream: StreamFraming {
    private var decoder = AWSEventStreamDecoder()
    private var translator: StreamTranslator
    private var brokenFrame: SidecarError?
    let dialect: APIDialect

    init(translator: StreamTranslator, dialect: APIDialect) {
        self.translator = translator
        self.dialect = dialect
    }

    mutating func feed(_ chunk: ByteBufferView) -> [UInt8] {
        guard brokenFrame == nil else { return [] }
        do {
            var out: [UInt8] = []
            for message in try decoder.feed(chunk) { out.append(contentsOf: translator.feed(message)) }
            return out
        } catch {
            brokenFrame = SidecarError(.upstreamProtocolError, "Bedrock sent a corrupt event-stream frame: \(error.reason).")
            return []
        }
    }

    mutating func finish() -> [UInt8] { brokenFrame == nil ? translator.finish() : [] }
    var usage: TokenUsage? { translator.usage }
    var sawEnd: Bool { brokenFrame == nil && translator.sawEnd }
    var upstreamFailure: SidecarError? { translator.failure }
    func errorEvent(_ error: SidecarError) -> [UInt8] { SSEErrorEvent.bytes(brokenFrame ?? error, dialect: dialect) }
    func usageTrailer(_ usage: TokenUsage, costUSD: Double) -> [UInt8] { StreamAccounting.usageComment(usage, costUSD: costUSD) }
}

/// The SSE error event of a broken stream, in the caller's dialect.
enum SSEErrorEvent {
    static func bytes(_ error: SidecarError, dialect: APIDialect) -> [UInt8] {
        switch dialect {
        case .openAI:
            return Array("data: \(error.body(for: .openAI))\n\n".utf8)
        case .anthropic:
            return Array("event: error\ndata: \(error.body(for: .anthropic))\n\n".utf8)
        case .bedrock:
            return BedrockErrorFrame.bytes(error)
        }
    }
}

/// The event-stream exception frame that ends a broken Bedrock stream; boto3 raises it as an `EventStreamError`.
enum BedrockErrorFrame {
    static func bytes(_ error: SidecarError) -> [UInt8] {
        let type: String
        switch error.code {
        case .upstreamTimeout: type = "modelTimeoutException"
        case .rateLimitExceeded, .budgetExceeded: type = "throttlingException"
        case .upstreamUnreachable, .shuttingDown: type = "serviceUnavailableException"
        default: type = "modelStreamErrorException"
        }
        return AWSEventStreamEncoder.exception(type: type, message: error.message)
    }
}
