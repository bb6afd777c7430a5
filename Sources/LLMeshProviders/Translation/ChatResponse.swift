/// The schema-neutral form of a complete (non-streamed) chat answer.
struct ChatResponse: Sendable {
    var content: [ChatAnswerBlock] = []
    var stopReason: ChatStopReason = .endTurn
    /// The stop sequence that ended the answer, when the upstream says which.
    var stopSequence: String?
    var usage: UsageCounts?
}

/// A piece of the answer.
enum ChatAnswerBlock: Sendable {
    case text(String)
    case toolUse(id: String, name: String, input: JSONTree)
    case thinking(text: String, signature: String?)
    case redactedThinking(data: String)
}

/// Why the model stopped, across schemas.
enum ChatStopReason: Sendable, Equatable {
    case endTurn, stopSequence, maxTokens, toolUse, contentFilter, guardrail, pauseTurn, contextWindowExceeded

    init(openAI reason: String?) {
        switch reason {
        case "length": self = .maxTokens
        case "tool_calls", "function_call": self = .toolUse
        case "content_filter": self = .contentFilter
        default: self = .endTurn
        }
    }

    init(anthropic reason: String?) {
        switch reason {
        case "stop_sequence": self = .stopSequence
        case "max_tokens": self = .maxTokens
        case "tool_use": self = .toolUse
        case "refusal": self = .contentFilter
        case "pause_turn": self = .pauseTurn
        case "model_context_window_exceeded": self = .contextWindowExceeded
        default: self = .endTurn
        }
    }

    /// Converse's `malformed_model_output` and `malformed_tool_use` have no counterpart and read as `endTurn`.
    init(converse reason: String?) {
        switch reason {
        case "stop_sequence": self = .stopSequence
        case "max_tokens": self = .maxTokens
        case "tool_use": self = .toolUse
        case "content_filtered": self = .contentFilter
        case "guardrail_intervened": self = .guardrail
        case "model_context_window_exceeded": self = .contextWindowExceeded
        default: self = .endTurn
        }
    }

    var openAI: String {
        switch self {
        case .endTurn, .stopSequence, .pauseTurn: return "stop"
        case .maxTokens, .contextWindowExceeded: return "length"
        case .toolUse: return "tool_calls"
        case .contentFilter, .guardrail: return "content_filter"
        }
    }

    var anthropic: String {
        switch self {
        case .endTurn: return "end_turn"
        case .stopSequence: return "stop_sequence"
        case .maxTokens: return "max_tokens"
        case .toolUse: return "tool_use"
        case .contentFilter, .guardrail: return "refusal"
        case .pauseTurn: return "pause_turn"
        case .contextWindowExceeded: return "model_context_window_exceeded"
        }
    }
}
