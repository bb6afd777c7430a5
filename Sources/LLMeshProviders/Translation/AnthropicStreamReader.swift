/// Reads an Anthropic Messages SSE stream into neutral events, keeping the usage (input from `message_start`,
/// output from `message_delta`). `ping`, citation deltas and server-tool blocks are skipped.
struct AnthropicStreamReader: Sendable {
    private(set) var usage: UsageCounts?

    mutating func read(_ event: SSEEvent) -> [ChatStreamEvent] {
        guard let data = StreamJSON.parse(event.data) else {
            return event.name == "ping" ? [] : [.failure(StreamJSON.malformed)]
        }
        let name = event.name ?? data["type"]?.stringValue ?? ""
        switch name {
        case "message_start":
            usage = UsageCounts(anthropic: data["message"]?["usage"])
            return [.start]
        case "content_block_start":
            let index = data["index"]?.intValue ?? 0
            let block = data["content_block"]
            switch block?["type"]?.stringValue {
            case "text":
                let text = block?["text"]?.stringValue ?? ""
                return text.isEmpty ? [] : [.text(block: index, text)]
            case "tool_use":
                return [.toolStart(block: index, id: block?["id"]?.stringValue ?? "toolu_\(index)", name: block?["name"]?.stringValue ?? "")]
            default:
                return []
            }
        case "content_block_delta":
            let index = data["index"]?.intValue ?? 0
            let delta = data["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta": return [.text(block: index, delta?["text"]?.stringValue ?? "")]
            case "input_json_delta": return [.toolInput(block: index, delta?["partial_json"]?.stringValue ?? "")]
            case "thinking_delta": return [.thinking(block: index, delta?["thinking"]?.stringValue ?? "")]
            case "signature_delta": return [.signature(block: index, delta?["signature"]?.stringValue ?? "")]
            default: return []
            }
        case "content_block_stop":
            return [.blockStop(block: data["index"]?.intValue ?? 0)]
        case "message_delta":
            if let later = UsageCounts(anthropic: data["usage"]) {
                var merged = usage ?? UsageCounts()
                merged.merge(later)
                usage = merged
            }
            guard let reason = data["delta"]?["stop_reason"]?.stringValue else { return [] }
            return [.stop(ChatStopReason(anthropic: reason), stopSequence: data["delta"]?["stop_sequence"]?.stringValue)]
        case "message_stop":
            return [.end]
        case "error":
            let error = data["error"]
            let type = error?["type"]?.stringValue
            let message = error?["message"]?.stringValue ?? "The upstream stream failed."
            return [.failure(UpstreamError(kind: UpstreamError.kind(named: type, status: 500), message: message, upstreamType: type))]
        default:
            return []
        }
    }
}
