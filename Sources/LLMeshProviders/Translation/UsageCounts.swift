/// Token counts split the way the schemas need to rebuild each other's `usage` objects.
///
/// `uncachedInput` excludes cache reads and writes (Anthropic's `input_tokens`, Converse's `inputTokens`); OpenAI's
/// `prompt_tokens` is the sum of the three input fields. Every count is clamped by ``TokenCount/clamped(_:)``, so the
/// sums below cannot overflow whatever the upstream wrote.
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
        let prompt = TokenCount.clamped(usage["prompt_tokens"]?.intValue ?? 0)
        let cached = TokenCount.clamped(usage["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0)
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
        self.uncachedInput = TokenCount.clamped(uncachedInput)
        self.cacheRead = TokenCount.clamped(cacheRead)
        self.cacheWrite = TokenCount.clamped(cacheWrite)
        self.output = TokenCount.clamped(output)
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

/// Token counts as the upstreams report them, made safe to add up.
enum TokenCount {
    /// Bedrock's own type for token counts is a 32-bit integer; no real answer comes near it.
    static let maximum = Int(Int32.max)

    /// `value` within `0...maximum`: a negative count is read as zero, a larger one as ``maximum``, so that a sum of a
    /// few counts (input plus cache reads and writes, plus output) never overflows `Int`.
    static func clamped(_ value: Int) -> Int { min(max(value, 0), maximum) }
}
