/// Watches a response stream on its way to the caller: reads usage, and for OpenAI hides the usage
/// reporting the sidecar switched on itself, so the caller sees exactly the stream it asked for.
public struct StreamAccounting: Sendable {
    public let kind: APIKind
    /// The sidecar added `stream_options.include_usage`; the caller did not ask for it.
    public let hideInjectedUsage: Bool
    /// Usage read so far (Anthropic sends input and output counts in different events).
    public private(set) var usage: TokenUsage?
    /// Whether the provider's normal end of stream was seen (`[DONE]`, `message_stop`, `response.completed`).
    public private(set) var sawEnd = false

    public init(kind: APIKind, hideInjectedUsage: Bool) {
        self.kind = kind
        self.hideInjectedUsage = hideInjectedUsage
    }

    /// Processes one event and returns the bytes to send on, or `nil` to drop it.
    public mutating func process(_ event: SSEEvent) -> [UInt8]? {
        switch kind.dialect {
        case .openAI where kind == .responses:
            observeResponsesEvent(event)
            return event.raw
        case .openAI:
            return processChatEvent(event)
        case .anthropic:
            observeAnthropicEvent(event)
            return event.raw
        case .bedrock:
            // Bedrock streams are AWS event streams, never SSE; accounted by BedrockUsage instead.
            return event.raw
        }
    }

    private mutating func processChatEvent(_ event: SSEEvent) -> [UInt8]? {
        if event.data.elementsEqual("[DONE]".utf8) {
            sawEnd = true
            return event.raw
        }
        // Fast path: a content chunk whose last member is the injected `"usage":null` (OpenAI's and vLLM's order) loses
        // those bytes without a parse. In valid JSON that suffix cannot sit inside a string.
        if hideInjectedUsage, let trimmed = Self.droppingTrailingNullUsage(event.data) {
            return Array("data: ".utf8) + trimmed + [0x0A, 0x0A]
        }
        guard Self.contains(event.data, "\"usage\""), let document = try? JSONDocument(validating: event.data), document.root.kind == .object else {
            return event.raw
        }
        let members = document.members(of: document.root)
        guard let usageIndex = members.firstIndex(where: { $0.key == "usage" }) else { return event.raw }
        let usageNode = members[usageIndex].value
        if usageNode.kind == .object, let parsed = UsageReader.usage(in: document, node: usageNode) {
            usage = parsed
        }
        guard hideInjectedUsage else { return event.raw }
        let choices = members.first { $0.key == "choices" }?.value
        if usageNode.kind == .object, choices.map({ document.elements(of: $0).isEmpty }) ?? true {
            return nil  // the usage-only chunk the caller never asked for
        }
        // Drop `"usage": null` (or the object) from a content chunk.
        let removal: Range<Int>
        if usageIndex > 0 {
            removal = members[usageIndex - 1].range.upperBound..<members[usageIndex].range.upperBound
        } else if members.count > 1 {
            removal = members[0].range.lowerBound..<members[1].range.lowerBound
        } else {
            removal = members[0].range
        }
        var json = document.bytes
        json.removeSubrange(removal)
        return Array("data: ".utf8) + json + [0x0A, 0x0A]
    }

    private mutating func observeAnthropicEvent(_ event: SSEEvent) {
        let name = event.name ?? ""
        if name == "message_stop" {
            sawEnd = true
            return
        }
        guard name == "message_start" || name == "message_delta", let document = try? JSONDocument(validating: event.data) else { return }
        let usageNode = name == "message_start" ? document.value(at: "message", "usage") : document.value(at: "usage")
        guard let usageNode, let parsed = UsageReader.usage(in: document, node: usageNode) else { return }
        var merged = usage ?? TokenUsage()
        if name == "message_start" {
            merged = parsed
        } else {
            // message_delta carries cumulative output tokens, and in newer versions the input counts again.
            merged.output = max(merged.output, parsed.output)
            if parsed.input > 0 {
                merged.input = parsed.input
                merged.cachedInput = parsed.cachedInput
            }
        }
        usage = merged
    }

    private mutating func observeResponsesEvent(_ event: SSEEvent) {
        let name = event.name ?? ""
        guard name == "response.completed" || name == "response.incomplete" || name == "response.failed" else { return }
        sawEnd = true
        guard let document = try? JSONDocument(validating: event.data), let node = document.value(at: "response", "usage") else { return }
        usage = UsageReader.usage(in: document, node: node)
    }

    /// The closing SSE comment that reports usage to the caller; SDKs ignore comment lines.
    public static func usageComment(_ usage: TokenUsage, costUSD: Double) -> [UInt8] {
        let text = #": llmesh-usage {"input_tokens":\#(usage.input),"output_tokens":\#(usage.output),"cached_input_tokens":\#(usage.cachedInput),"cost_usd":\#(JSONText.number(costUSD))}"#
        return Array((text + "\n\n").utf8)
    }

    private static let trailingNullUsage = Array(#","usage":null}"#.utf8)

    /// `data` without a final `,"usage":null` member, or `nil` when it does not end that way.
    static func droppingTrailingNullUsage(_ data: [UInt8]) -> [UInt8]? {
        var end = data.count
        while end > 0, data[end - 1] == 0x20 || data[end - 1] == 0x0A || data[end - 1] == 0x0D || data[end - 1] == 0x09 { end -= 1 }
        let suffix = trailingNullUsage
        guard end >= suffix.count + 1, data[0] == UInt8(ascii: "{") else { return nil }
        guard data[(end - suffix.count)..<end].elementsEqual(suffix) else { return nil }
        return Array(data[0..<(end - suffix.count)]) + [UInt8(ascii: "}")]
    }

    static func contains(_ haystack: [UInt8], _ needle: StaticString) -> Bool {
        needle.withUTF8Buffer { pattern in
            guard let first = pattern.first, haystack.count >= pattern.count else { return false }
            var index = 0
            let last = haystack.count - pattern.count
            while index <= last {
                if haystack[index] == first {
                    var matched = true
                    for offset in 1..<pattern.count where haystack[index + offset] != pattern[offset] {
                        matched = false
                        break
                    }
                    if matched { return true }
                }
                index += 1
            }
            return false
        }
    }
}
