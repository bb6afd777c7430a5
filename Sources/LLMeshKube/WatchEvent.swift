/// One event of a watch stream.
public struct WatchEvent: Sendable, Hashable {
    /// The event types of the Kubernetes watch protocol.
    public enum EventType: String, Sendable, Hashable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    public var type: EventType
    /// The object; for `ERROR` a `Status`, for `BOOKMARK` only `metadata.resourceVersion`.
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// The error an `ERROR` event carries (for example 410 Expired inside the stream).
    public var error: KubeAPIError? {
        guard type == .error else { return nil }
        return KubeAPIError(code: object["code"]?.intValue ?? 500, reason: object["reason"]?.stringValue, message: object["message"]?.stringValue ?? "watch error")
    }
}

/// Splits a watch response body (one JSON object per line) into events, with a bound on line length.
struct WatchLineDecoder {
    let maximumLineBytes: Int
    private var pending: [UInt8] = []

    init(maximumLineBytes: Int = 16 * 1024 * 1024) {
        self.maximumLineBytes = maximumLineBytes
    }

    /// Feeds bytes; returns the complete events. Throws on a malformed or oversized line.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(KubeAPIError) -> [WatchEvent] {
        pending.append(contentsOf: bytes)
        var events: [WatchEvent] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[start..<newline]
            start = newline + 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            events.append(try Self.event(from: line))
        }
        pending.removeSubrange(pending.startIndex..<start)
        if pending.count > maximumLineBytes {
            throw KubeAPIError(code: 0, message: "watch event larger than \(maximumLineBytes) bytes")
        }
        return events
    }

    /// The last event when the stream ended without a final newline.
    mutating func finish() throws(KubeAPIError) -> [WatchEvent] {
        defer { pending.removeAll() }
        guard !pending.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 || $0 == 10 }) else { return [] }
        return [try Self.event(from: pending[...])]
    }

    private static func event(from line: ArraySlice<UInt8>) throws(KubeAPIError) -> WatchEvent {
        guard let value = try? JSONValue.parse(line), let typeName = value["type"]?.stringValue,
            let type = WatchEvent.EventType(rawValue: typeName), let object = value["object"]
        else {
            throw KubeAPIError(code: 0, message: "malformed watch event: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        return WatchEvent(type: type, object: object)
    }
}
