/// Writes neutral stream events as Anthropic Messages SSE, in the order Anthropic sends them.
///
/// `message_start` (with the input usage known so far, zeros when the upstream reports usage only at the end), then
/// per block `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`, `thinking_delta`,
/// `signature_delta`) / `content_block_stop` with indexes renumbered from 0, then `message_delta` (stop reason and the
/// full usage, input counts included, which the Anthropic SDKs read) and `message_stop`. Blocks never interleave: a
/// block starting closes the open one. An upstream failure becomes `event: error`.
struct AnthropicStreamWriter: Sendable {
    private enum BlockKind: Equatable { case text, thinking, tool }

    private static let thinkingStart: JSONTree = ["type": "thinking", "thinking": "", "signature": ""]

    let model: String
    let id: String
    private var started = false
    private(set) var done = false
    private var callerIndexes: [Int: Int] = [:]
    private var kinds: [Int: BlockKind] = [:]
    private var openBlock: Int?
    private var stopReason: ChatStopReason?
    private var stopSequence: String?

    init(model: String, id: String) {
        self.model = model
        self.id = id
    }

    mutating func write(_ event: ChatStreamEvent, usage: UsageCounts?) -> [UInt8] {
        guard !done else { return [] }
        var output: [UInt8] = []
        switch event {
        case .start:
            ensureStarted(usage: usage, into: &output)
        case .text(let block, let text):
            guard !text.isEmpty else { return [] }
            ensureStarted(usage: usage, into: &output)
            guard let index = ensureBlock(block, .text, start: ["type": "text", "text": ""], into: &output) else { return output }
            Self.appendDelta(index: index, ["type": "text_delta", "text": .string(text)], to: &output)
        case .thinking(let block, let text):
            ensureStarted(usage: usage, into: &output)
            guard let index = ensureBlock(block, .thinking, start: Self.thinkingStart, into: &output) else { return output }
            Self.appendDelta(index: index, ["type": "thinking_delta", "thinking": .string(text)], to: &output)
        case .signature(let block, let signature):
            ensureStarted(usage: usage, into: &output)
            guard let index = ensureBlock(block, .thinking, start: Self.thinkingStart, into: &output) else { return output }
            Self.appendDelta(index: index, ["type": "signature_delta", "signature": .string(signature)], to: &output)
        case .toolStart(let block, let callID, let name):
            ensureStarted(usage: usage, into: &output)
            _ = ensureBlock(block, .tool, start: ["type": "tool_use", "id": .string(callID), "name": .string(name), "input": [:]], into: &output)
        case .toolInput(let block, let json):
            guard !json.isEmpty, kinds[block] == .tool, let index = callerIndexes[block] else { return [] }
            Self.appendDelta(index: index, ["type": "input_json_delta", "partial_json": .string(json)], to: &output)
        case .blockStop(let block):
            if openBlock == block { closeOpenBlock(into: &output) }
        case .stop(let reason, let sequence):
            stopReason = reason
            stopSequence = sequence
        case .end:
            close(usage: usage, into: &output)
        case .failure(let error):
            done = true
            Self.append("error", error.body(for: .anthropicMessages), to: &output)
        }
        return output
    }

    /// What is still owed when the upstream ended cleanly after its stop reason but without its final event.
    mutating func finish(usage: UsageCounts?) -> [UInt8] {
        guard !done, stopReason != nil else { return [] }
        var output: [UInt8] = []
        close(usage: usage, into: &output)
        return output
    }

    private mutating func close(usage: UsageCounts?, into output: inout [UInt8]) {
        ensureStarted(usage: usage, into: &output)
        closeOpenBlock(into: &output)
        let counts = usage ?? UsageCounts()
        let delta: JSONTree = [
            "type": "message_delta",
            "delta": ["stop_reason": .string((stopReason ?? .endTurn).anthropic), "stop_sequence": stopSequence.map(JSONTree.string) ?? .null],
            "usage": [
                "input_tokens": .int(counts.uncachedInput),
                "cache_creation_input_tokens": .int(counts.cacheWrite),
                "cache_read_input_tokens": .int(counts.cacheRead),
                "output_tokens": .int(counts.output),
            ],
        ]
        Self.append("message_delta", delta, to: &output)
        Self.append("message_stop", ["type": "message_stop"], to: &output)
        done = true
    }

    private mutating func ensureStarted(usage: UsageCounts?, into output: inout [UInt8]) {
        guard !started else { return }
        started = true
        var counts = usage ?? UsageCounts()
        counts.output = 0
        let message: JSONTree = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
            "stop_reason": nil, "stop_sequence": nil, "usage": counts.anthropic,
        ]
        Self.append("message_start", ["type": "message_start", "message": message], to: &output)
    }

    /// The caller's index for upstream `block`, starting it (and closing the open block) on first sight; `nil` when
    /// the block already exists as another kind.
    private mutating func ensureBlock(_ block: Int, _ kind: BlockKind, start: JSONTree, into output: inout [UInt8]) -> Int? {
        if let index = callerIndexes[block] { return kinds[block] == kind ? index : nil }
        closeOpenBlock(into: &output)
        let index = callerIndexes.count
        callerIndexes[block] = index
        kinds[block] = kind
        openBlock = block
        Self.append("content_block_start", ["type": "content_block_start", "index": .int(index), "content_block": start], to: &output)
        return index
    }

    private mutating func closeOpenBlock(into output: inout [UInt8]) {
        guard let block = openBlock, let index = callerIndexes[block] else { return }
        openBlock = nil
        Self.append("content_block_stop", ["type": "content_block_stop", "index": .int(index)], to: &output)
    }

    static func appendDelta(index: Int, _ delta: JSONTree, to output: inout [UInt8]) {
        append("content_block_delta", ["type": "content_block_delta", "index": .int(index), "delta": delta], to: &output)
    }

    static func append(_ name: String, _ data: JSONTree, to output: inout [UInt8]) {
        output.append(contentsOf: "event: \(name)\ndata: ".utf8)
        data.write(into: &output)
        output.append(contentsOf: "\n\n".utf8)
    }
}
