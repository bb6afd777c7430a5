/// Token counts split the way the schemas need to rebuild each other's `usage` objects.
///
/// `uncachedInput` excludes cache reads and writes (Anthropic's `input_tokens`, Converse's `inputTokens`); OpenAI's
/// `prompt_tokens` is the sum of the three input fields.
struct UsageCounts: Sendable, Hashable {
    var uncachedInput = 0
    var cacheRead = 0
    var cacheWrite = 0
    var output = 0

    /// The normalised counts: every prompt token is input, cache reads are the cached part.
    var tokenUsage: TokenUsage {
        TokenUsage(input: uncachedInput + cacheRead + cacheWrite, output: output, cachedInput: cacheRead)
    }

    var promptTotal: Int { uncachedInput + cacheRead + cacheWrite }

    /// From an OpenAI `usage` object (`prompt_tokens` includes `prompt_tokens_details.cached_tokens`).
    init?(openAI usage: JSONTree?) {
        guard let usage, usage.objectValue != nil else { return nil }
        let prompt = usage["prompt_tokens"]?.intValue ?? 0
        let cached = usage["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0
        self.init(uncachedInput: max(0, prompt - cached), cacheRead: cached, output: usage["completion_tokens"]?.intValue ?? 0)
    }

    /// From an Anthropic `usage` object; `nil` members stay at zero.
    init?(anthropic usage: JSONTree?) {
        guard let usage, usage.objectValue != nil else { return nil }
        self.init(
            uncachedInput: usage["input_tokens"]?.intValue ?? 0,
            cacheRead: usage["cache_read_input_tokens"]?.intValue ?? 0,
            cacheWrite: usage["cache_creation_input_tokens"]?.intValue ?? 0,
            output: usage["output_tokens"]?.intValue ?? 0
        )
    }

    /// From a Converse `usage` object.
    init?(converse usage: JSONTree?) {
        guard let usage, usage.objectValue != nil else { return nil }
        self.init(
            uncachedInput: usage["inputTokens"]?.intValue ?? 0,
            cacheRead: usage["cacheReadInputTokens"]?.intValue ?? 0,
            cacheWrite: usage["cacheWriteInputTokens"]?.intValue ?? 0,
            output: usage["outputTokens"]?.intValue ?? 0
        )
    }

    init(uncachedInput: Int = 0, cacheRead: Int = 0, cacheWrite: Int = 0, output: Int = 0) {
        self.uncachedInput = uncachedInput
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.output = output
    }

    /// An OpenAI `usage` object.
    var openAI: JSONTree {
        [
            "prompt_tokens": .int(promptTotal),
            "completion_tokens": .int(output),
            "total_tokens": .int(promptTotal + output),
            "prompt_tokens_details": ["cached_tokens": .int(cacheRead)],
        ]
    }

    /// An Anthropic `usage` object.
    var anthropic: JSONTree {
        [
            "input_tokens": .int(uncachedInput),
            "cache_creation_input_tokens": .int(cacheWrite),
            "cache_read_input_tokens": .int(cacheRead),
            "output_tokens": .int(output),
        ]
    }

    /// Anthropic's stream merge: `message_delta` carries the cumulative output and, in newer API versions, the input
    /// counts again; a later non-zero value wins.
    mutating func merge(_ later: UsageCounts) {
        output = max(output, later.output)
        if later.promptTotal > 0 {
            uncachedInput = later.uncachedInput
            cacheRead = later.cacheRead
            cacheWrite = later.cacheWrite
        }
    }
}
