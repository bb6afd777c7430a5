/// Reads an OpenAI Chat Completions chunk stream into neutral events.
///
/// Chat chunks have no content blocks: the reader opens a text block for content (and `refusal`) deltas and one
/// block per `tool_calls[].index`, closing the open block when another starts or the choice finishes. Usage comes
/// from the `usage` chunk (`stream_options.include_usage`, which the request translator always asks for). Only
/// choice 0 is read; `reasoning_content` extensions are skipped.
struct OpenAIStreamReader: Sendable {
    private(set) var usage: UsageCounts?
    private var started = false
    private var nextBlock = 0
    private var openBlock: Int?
    private var openIsText = false
    private var toolBlocks: [Int: Int] = [:]
    private var stopped = false

    mutating func read(_ event: SSEEvent) -> [ChatStreamEvent] {
        if event.data.elementsEqual("[DONE]".utf8) {
            var events = closeOpenBlock()
            if !stopped { events.append(.stop(.endTurn, stopSequence: nil)) }
            stopped = true
            return events + [.end]
        }
        guard let data = StreamJSON.parse(event.data) else { return [.failure(StreamJSON.malformed)] }
        if let error = data["error"], !error.isNull {
            let type = error["type"]?.stringValue
            let message = error["message"]?.stringValue ?? "The upstream stream failed."
            return [.failure(UpstreamError(kind: UpstreamError.kind(named: type, status: 500), message: message, upstreamType: error["code"]?.stringValue ?? type))]
        }
        var events: [ChatStreamEvent] = []
        if !started {
            started = true
            events.append(.start)
        }
        if let counts = UsageCounts(openAI: data["usage"]) { usage = counts }
        guard let choice = data["choices"]?.arrayValue?.first(where: { ($0["index"]?.intValue ?? 0) == 0 }) else { return events }
        let delta = choice["delta"]
        for key in ["content", "refusal"] {
            if let text = delta?[key]?.stringValue, !text.isEmpty { events += textDelta(text) }
        }
        for call in delta?["tool_calls"]?.arrayValue ?? [] {
            events += toolDelta(call)
        }
        if let reason = choice["finish_reason"]?.stringValue, !stopped {
            events += closeOpenBlock()
            events.append(.stop(ChatStopReason(openAI: reason), stopSequence: nil))
            stopped = true
        }
        return events
    }

    private mutating func textDelta(_ text: String) -> [ChatStreamEvent] {
        var events: [ChatStreamEvent] = []
        if openBlock == nil || !openIsText {
            events += closeOpenBlock()
            openBlock = nextBlock
            openIsText = true
            nextBlock += 1
        }
        events.append(.text(block: openBlock ?? 0, text))
        return events
    }

    private mutating func toolDelta(_ call: JSONTree) -> [ChatStreamEvent] {
        let toolIndex = call["index"]?.intValue ?? 0
        var events: [ChatStreamEvent] = []
        let block: Int
        if let known = toolBlocks[toolIndex] {
            block = known
        } else {
            events += closeOpenBlock()
            block = nextBlock
            nextBlock += 1
            toolBlocks[toolIndex] = block
            openBlock = block
            openIsText = false
            let id = call["id"]?.stringValue ?? "call_\(toolIndex)"
            events.append(.toolStart(block: block, id: id, name: call["function"]?["name"]?.stringValue ?? ""))
        }
        if let arguments = call["function"]?["arguments"]?.stringValue, !arguments.isEmpty {
            events.append(.toolInput(block: block, arguments))
        }
        return events
    }

    private mutating func closeOpenBlock() -> [ChatStreamEvent] {
        guard let block = openBlock else { return [] }
        openBlock = nil
        return [.blockStop(block: block)]
    }
}
