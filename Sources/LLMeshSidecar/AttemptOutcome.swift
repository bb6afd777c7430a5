import LLMeshModel
import LLMeshProviders
import NIOHTTP1

/// A complete upstream answer held back because it may be retried or replaced by another backend's.
struct BufferedReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// Why one attempt did not serve the request, and what the caller gets if nothing better comes.
struct AttemptFailure: Sendable {
    /// What kind of failure this is, for the route's `retry.on` and `fallbackOn`; `nil` for failures no retry can fix.
    var trigger: FailureTrigger?
    /// The sidecar's own error, when no upstream answer exists.
    var error: SidecarError?
    /// The upstream's answer (an error status, or a refusal), passed through if this is the last attempt.
    var reply: BufferedReply?
    /// The provider's `retry-after`, if it sent one.
    var retryAfter: Duration?
    /// Whether this failure counts against the backend's health.
    var countsAgainstBackend: Bool

    static func sidecar(_ error: SidecarError, trigger: FailureTrigger?, countsAgainstBackend: Bool) -> AttemptFailure {
        AttemptFailure(trigger: trigger, error: error, reply: nil, retryAfter: nil, countsAgainstBackend: countsAgainstBackend)
    }

    /// The label used in logs and metrics.
    var label: String {
        if let reply { return "upstream_\(reply.status)" }
        return error?.code.rawValue ?? trigger?.rawValue ?? "error"
    }
}

/// The result of one attempt.
enum AttemptOutcome: Sendable {
    /// The answer reached the caller (a stream may still have broken after that).
    case served(streamFailed: Bool)
    case failed(AttemptFailure)
}

/// One attempt as the access log records it.
struct AttemptRecord: Sendable {
    var backend: String
    var outcome: String
    var durationMilliseconds: Double
}

extension AttemptFailure {
    /// Classifies a complete upstream answer that was not a success, or a success that is a refusal.
    ///
    /// Context-length and content-filter refusals are recognised by the codes and phrases OpenAI, Azure OpenAI and
    /// Anthropic document for them.
    static func classify(_ reply: BufferedReply, checkRefusal: Bool) -> AttemptFailure? {
        let retryAfter = Self.retryAfter(reply.headers)
        switch reply.status {
        case 200..<300:
            guard checkRefusal, Self.isContentFilterStop(reply.body) else { return nil }
            return AttemptFailure(trigger: .contentFilter, error: nil, reply: reply, retryAfter: nil, countsAgainstBackend: false)
        case 429:
            return AttemptFailure(trigger: .rateLimited, error: nil, reply: reply, retryAfter: retryAfter, countsAgainstBackend: false)
        case 500..<600:
            return AttemptFailure(trigger: .serverError, error: nil, reply: reply, retryAfter: retryAfter, countsAgainstBackend: true)
        case 400..<500:
            let text = String(decoding: reply.body.prefix(8192), as: UTF8.self).lowercased()
            let contextMarkers = ["context_length_exceeded", "maximum context length", "prompt is too long", "input is too long", "exceed context limit", "context window", "too many tokens"]
            let filterMarkers = ["content_filter", "content_policy_violation", "responsibleaipolicyviolation", "content management policy"]
            if contextMarkers.contains(where: text.contains) {
                return AttemptFailure(trigger: .contextLength, error: nil, reply: reply, retryAfter: nil, countsAgainstBackend: false)
            }
            if filterMarkers.contains(where: text.contains) {
                return AttemptFailure(trigger: .contentFilter, error: nil, reply: reply, retryAfter: nil, countsAgainstBackend: false)
            }
            return AttemptFailure(trigger: nil, error: nil, reply: reply, retryAfter: nil, countsAgainstBackend: false)
        default:
            return AttemptFailure(trigger: nil, error: nil, reply: reply, retryAfter: nil, countsAgainstBackend: false)
        }
    }

    /// `retry-after-ms`, or `retry-after` in seconds (HTTP dates are ignored).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap(Double.init), milliseconds >= 0 {
            return .milliseconds(Int64(milliseconds))
        }
        if let seconds = headers.first(name: "retry-after").flatMap(Double.init), seconds >= 0 {
            return .milliseconds(Int64(seconds * 1000))
        }
        return nil
    }

    /// A 200 answer that the provider's filter cut: `finish_reason: "content_filter"` or `stop_reason: "refusal"`.
    static func isContentFilterStop(_ body: [UInt8]) -> Bool {
        guard let document = try? JSONDocument(validating: body) else { return false }
        if document.value(at: "stop_reason").flatMap(document.string) == "refusal" { return true }
        guard let choices = document.value(at: "choices") else { return false }
        return document.elements(of: choices).contains { choice in
            document.member("finish_reason", of: choice).flatMap(document.string) == "content_filter"
        }
    }
}
