/// Reads a Bedrock ConverseStream (AWS event-stream messages) into neutral events.
///
/// Text blocks have no `contentBlockStart` in Converse; tool blocks do. The stop reason comes in `messageStop` and
/// usage only in the final `metadata`, so the end is reported once both arrived. Exceptions (`:message-type
/// exception` with `:exception-type`, or `error` with `:error-code`) fail the stream with the upstream's message.
struct ConverseStreamReader: Sendable {
    private(set) var usage: UsageCounts?
    private var sawStop = false
    private var sawMetadata = false

    mutating func read(_ message: AWSEventStreamMessage) -> [ChatStreamEvent] {
        switch message.messageType {
        case "exception":
            let type = message.exceptionType
            let text = StreamJSON.parse(message.payload)?["message"]?.stringValue ?? "The upstream stream failed."
            return [.failure(UpstreamError(kind: UpstreamError.kind(named: type, status: 500), message: text, upstreamType: type))]
        case "error":
            let code = message.string(":error-code")
            let text = message.string(":error-message") ?? "The upstream stream failed."
            return [.failure(UpstreamError(kind: UpstreamError.kind(named: code, status: 500), message: text, upstreamType: code))]
        default:
            break
        }
        guard let data = StreamJSON.parse(message.payload) else { return [.failure(StreamJSON.malformed)] }
        let index = data["contentBlockIndex"]?.intValue ?? 0
        switch message.eventType {
        case "messageStart":
            return [.start]
        case "contentBlockStart":
            guard let use = data["start"]?["toolUse"] else { return [] }
            return [.toolStart(block: index, id: use["toolUseId"]?.stringValue ?? "tooluse_\(index)", name: use["name"]?.stringValue ?? "")]
        case "contentBlockDelta":
            let delta = data["delta"]
            if let text = delta?["text"]?.stringValue { return [.text(block: index, text)] }
            if let input = delta?["toolUse"]?["input"]?.stringValue { return input.isEmpty ? [] : [.toolInput(block: index, input)] }
            if let reasoning = delta?["reasoningContent"] {
                if let text = reasoning["text"]?.stringValue { return [.thinking(block: index, text)] }
                if let signature = reasoning["signature"]?.stringValue { return [.signature(block: index, signature)] }
            }
            return []
        case "contentBlockStop":
            return [.blockStop(block: index)]
        case "messageStop":
            sawStop = true
            let events: [ChatStreamEvent] = [.stop(ChatStopReason(converse: data["stopReason"]?.stringValue), stopSequence: nil)]
            return sawMetadata ? events + [.end] : events
        case "metadata":
            sawMetadata = true
            usage = UsageCounts(converse: data["usage"])
            return sawStop ? [.end] : []
        default:
            return []
        }
    }
}
