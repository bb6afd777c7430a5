import LLMeshModel

/// Token counts of one call, normalised across providers.
///
/// `input` counts every prompt token, cached ones included (OpenAI's convention); `cachedInput` is the part
/// served from the provider's prompt cache. Anthropic reports cache reads apart, so its counts are added up.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var input: Int
    public var output: Int
    public var cachedInput: Int

    public init(input: Int = 0, output: Int = 0, cachedInput: Int = 0) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
    }

    public var total: Int { input.addingReportingOverflow(output).overflow ? .max : input + output }

    /// Cost in USD at `pricing`; zero when the model has no price.
    public func cost(at pricing: ModelPricing?) -> Double {
        guard let pricing else { return 0 }
        let cached = min(cachedInput, input)
        let cachedPrice = pricing.cachedInputPerMillion ?? pricing.inputPerMillion
        let dollars = Double(input - cached) * pricing.inputPerMillion + Double(cached) * cachedPrice
            + Double(output) * pricing.outputPerMillion
        return dollars / 1_000_000
    }
}

/// Reads the `usage` objects of every supported API.
public enum UsageReader {
    /// Usage from a non-streamed response body, if it carries one.
    public static func usage(inResponse body: [UInt8], kind: APIKind) -> TokenUsage? {
        guard let document = try? JSONDocument(validating: body) else { return nil }
        if kind == .countTokens {
            return document.value(at: "input_tokens").flatMap(document.int).map { TokenUsage(input: TokenCount.clamped($0)) }
        }
        return document.value(at: "usage").flatMap { usage(in: document, node: $0) }
    }

    /// Reads a `usage` object of any of the OpenAI Chat, OpenAI Responses or Anthropic shapes.
    public static func usage(in document: JSONDocument, node: JSONNode) -> TokenUsage? {
        guard node.kind == .object else { return nil }
        func int(_ path: String...) -> Int? {
            var current = node
            for key in path {
                guard let next = document.member(key, of: current) else { return nil }
                current = next
            }
            // Counts come from the upstream: clamped so that adding a few of them can never overflow.
            return document.int(current).map(TokenCount.clamped)
        }
        if let prompt = int("prompt_tokens") {
            // OpenAI Chat Completions, Completions and Embeddings.
            return TokenUsage(
                input: prompt,
                output: int("completion_tokens") ?? 0,
                cachedInput: int("prompt_tokens_details", "cached_tokens") ?? 0
            )
        }
        if int("cache_read_input_tokens") != nil || int("cache_creation_input_tokens") != nil {
            // Anthropic: input_tokens excludes cache reads and writes.
            let cacheRead = int("cache_read_input_tokens") ?? 0
            let cacheWrite = int("cache_creation_input_tokens") ?? 0
            return TokenUsage(input: (int("input_tokens") ?? 0) + cacheRead + cacheWrite, output: int("output_tokens") ?? 0, cachedInput: cacheRead)
        }
        if int("input_tokens") != nil || int("output_tokens") != nil {
            // OpenAI Responses, or Anthropic without cache fields.
            return TokenUsage(
                input: int("input_tokens") ?? 0,
                output: int("output_tokens") ?? 0,
                cachedInput: int("input_tokens_details", "cached_tokens") ?? 0
            )
        }
        return nil
    }
}

/// A rough prompt-size estimate (about four bytes a token) for mock answers and admission before usage is known.
public enum TokenEstimate {
    public static func tokens(inUTF8Count count: Int) -> Int { max(1, (count + 3) / 4) }
}
