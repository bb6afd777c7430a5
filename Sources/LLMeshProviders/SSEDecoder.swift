/// One Server-Sent Event: its exact bytes, for pass-through, and its parsed fields.
public struct SSEEvent: Sendable, Hashable {
    /// The event as received, including the blank line that ended it.
    public var raw: [UInt8]
    /// The `event:` field, if any.
    public var name: String?
    /// The `data:` lines joined with newlines.
    public var data: [UInt8]
}

/// What the decoder hands on: complete events, or bytes it gave up parsing.
public enum SSEItem: Sendable, Hashable {
    case event(SSEEvent)
    /// Bytes passed on unparsed, after an event grew past the size limit.
    case unparsed([UInt8])
}

/// An incremental Server-Sent Events decoder (WHATWG rules: `\n`, `\r\n` or `\r` line ends, `:` comments).
///
/// Bytes go in as they arrive from the network; complete events come out at once, so a stream is never
/// buffered whole. An event larger than `maximumEventBytes` switches the decoder to pass-through for the
/// rest of the stream: the client still gets every byte, only usage accounting is lost.
public struct SSEDecoder: Sendable {
    public let maximumEventBytes: Int
    private var pending: [UInt8] = []
    /// Where scanning resumes: everything before it in `pending` has been looked at already.
    private var scanFrom = 0
    /// Where the unfinished line in `pending` starts.
    private var lineStartOffset = 0
    private var passThrough = false

    public init(maximumEventBytes: Int = 8 * 1024 * 1024) {
        self.maximumEventBytes = maximumEventBytes
    }

    /// Whether an oversized event switched the decoder to pass-through.
    public var gaveUp: Bool { passThrough }

    /// Feeds bytes and returns every event they complete.
    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [SSEItem] {
        if passThrough { return bytes.isEmpty ? [] : [.unparsed(Array(bytes))] }
        pending.append(contentsOf: bytes)
        var items: [SSEItem] = []
        var eventStart = 0
        var lineStart = lineStartOffset
        var index = scanFrom
        while index < pending.count {
            let byte = pending[index]
            guard byte == 0x0A || byte == 0x0D else {
                index += 1
                continue
            }
            var lineEnd = index + 1
            if byte == 0x0D {
                guard index + 1 < pending.count else { break }  // a lone CR at the end may be half of CRLF
                if pending[index + 1] == 0x0A { lineEnd += 1 }
            }
            if index == lineStart {
                // Blank line: the event from eventStart is complete.
                let raw = Array(pending[eventStart..<lineEnd])
                if let event = Self.parse(raw) { items.append(.event(event)) }
                eventStart = lineEnd
            }
            lineStart = lineEnd
            index = lineEnd
        }
        if eventStart > 0 {
            pending.removeFirst(eventStart)
            lineStart -= eventStart
            index -= eventStart
        }
        // Resume after what was scanned, not at the line's start: a long line fed in small pieces stays linear.
        lineStartOffset = lineStart
        scanFrom = index
        if pending.count > maximumEventBytes {
            passThrough = true
            items.append(.unparsed(pending))
            pending = []
            scanFrom = 0
            lineStartOffset = 0
        }
        return items
    }

    /// Whatever is left at the end of the stream: an event with no closing blank line, passed on as is.
    public mutating func finish() -> [UInt8] {
        defer {
            pending = []
            scanFrom = 0
            lineStartOffset = 0
        }
        return pending
    }

    static func parse(_ raw: [UInt8]) -> SSEEvent? {
        var name: String?
        var data: [UInt8] = []
        var sawData = false
        var lineStart = 0
        var index = 0
        func handleLine(_ line: ArraySlice<UInt8>) {
            guard let first = line.first, first != UInt8(ascii: ":") else { return }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let field = colon.map { line[line.startIndex..<$0] } ?? line
            var value = colon.map { line[($0 + 1)...] } ?? []
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            if field.elementsEqual("data".utf8) {
                if sawData { data.append(0x0A) }
                data.append(contentsOf: value)
                sawData = true
            } else if field.elementsEqual("event".utf8) {
                name = String(decoding: value, as: UTF8.self)
            }
        }
        while index < raw.count {
            let byte = raw[index]
            if byte == 0x0A || byte == 0x0D {
                if index > lineStart { handleLine(raw[lineStart..<index]) }
                if byte == 0x0D, index + 1 < raw.count, raw[index + 1] == 0x0A { index += 1 }
                lineStart = index + 1
            }
            index += 1
        }
        return SSEEvent(raw: raw, name: name, data: data)
    }
}
