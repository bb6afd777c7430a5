/// A header value of an AWS event-stream message.
public enum AWSEventStreamHeaderValue: Sendable, Hashable {
    case bool(Bool)
    case int(Int64)
    case bytes([UInt8])
    case string(String)
    case timestamp(Int64)
    case uuid([UInt8])
}

/// One AWS event-stream message (`application/vnd.amazon.eventstream`), as Bedrock's `ConverseStream` and
/// `InvokeModelWithResponseStream` send them.
public struct AWSEventStreamMessage: Sendable, Hashable {
    /// The message exactly as received, for pass-through.
    public var raw: [UInt8]
    public var headers: [String: AWSEventStreamHeaderValue]
    public var payload: [UInt8]

    /// `:message-type`: `event`, `exception` or `error`.
    public var messageType: String? { string(":message-type") }
    /// `:event-type` of events (`contentBlockDelta`, `metadata`, `chunk`…).
    public var eventType: String? { string(":event-type") }
    /// `:exception-type` of modeled exceptions.
    public var exceptionType: String? { string(":exception-type") }

    func string(_ name: String) -> String? {
        if case .string(let value) = headers[name] { return value }
        return nil
    }
}

/// Why an event stream could not be decoded. After an error the stream is not trustworthy: stop reading it.
public struct AWSEventStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid AWS event stream: \(reason)" }
}

/// An incremental decoder of AWS event-stream framing: bytes in as they arrive, complete messages out.
///
/// Frame: total length (u32 BE), headers length (u32 BE), prelude CRC-32 of the first 8 bytes, headers, payload, and a
/// CRC-32 of everything before it. Both checksums are verified; lengths are bounded as botocore bounds them (headers
/// ≤ 128 KiB, payload ≤ 24 MiB), so a corrupt length cannot make the decoder wait for or allocate gigabytes.
public struct AWSEventStreamDecoder: Sendable {
    public static let maximumHeadersBytes = 128 * 1024
    public static let maximumPayloadBytes = 24 * 1024 * 1024
    private var buffer: [UInt8] = []

    public init() {}

    /// Bytes received but not yet part of a complete message.
    public var pendingByteCount: Int { buffer.count }

    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(AWSEventStreamError) -> [AWSEventStreamMessage] {
        buffer.append(contentsOf: bytes)
        var messages: [AWSEventStreamMessage] = []
        var start = 0
        while buffer.count - start >= 12 {
            let total = Int(Self.u32(buffer, start))
            let headersLength = Int(Self.u32(buffer, start + 4))
            guard Self.crc32(buffer[start..<(start + 8)]) == Self.u32(buffer, start + 8) else {
                throw AWSEventStreamError(reason: "prelude checksum mismatch")
            }
            guard headersLength <= Self.maximumHeadersBytes, total >= 16 + headersLength,
                total - 16 - headersLength <= Self.maximumPayloadBytes
            else {
                throw AWSEventStreamError(reason: "frame lengths out of range (total \(total), headers \(headersLength))")
            }
            guard buffer.count - start >= total else { break }
            let end = start + total
            guard Self.crc32(buffer[start..<(end - 4)]) == Self.u32(buffer, end - 4) else {
                throw AWSEventStreamError(reason: "message checksum mismatch")
            }
            let headers = try Self.parseHeaders(buffer[(start + 12)..<(start + 12 + headersLength)])
            let payload = Array(buffer[(start + 12 + headersLength)..<(end - 4)])
            messages.append(AWSEventStreamMessage(raw: Array(buffer[start..<end]), headers: headers, payload: payload))
            start = end
        }
        if start > 0 { buffer.removeFirst(start) }
        return messages
    }

    static func parseHeaders(_ bytes: ArraySlice<UInt8>) throws(AWSEventStreamError) -> [String: AWSEventStreamHeaderValue] {
        var headers: [String: AWSEventStreamHeaderValue] = [:]
        var index = bytes.startIndex
        func need(_ count: Int) throws(AWSEventStreamError) {
            guard bytes.endIndex - index >= count else { throw AWSEventStreamError(reason: "truncated header") }
        }
        func integer(_ width: Int) -> Int64 {
            var value: UInt64 = 0
            for offset in 0..<width { value = value << 8 | UInt64(bytes[index + offset]) }
            let shift = UInt64(64 - width * 8)
            return Int64(bitPattern: value << shift) >> Int64(shift)
        }
        while index < bytes.endIndex {
            try need(1)
            let nameLength = Int(bytes[index])
            index += 1
            try need(nameLength + 1)
            let name = String(decoding: bytes[index..<(index + nameLength)], as: UTF8.self)
            index += nameLength
            let type = bytes[index]
            index += 1
            let value: AWSEventStreamHeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2, 3, 4, 5:
                let width = [2: 1, 3: 2, 4: 4, 5: 8][Int(type)] ?? 8
                try need(width)
                value = .int(integer(width))
                index += width
            case 6, 7:
                try need(2)
                let length = Int(integer(2) & 0xFFFF)
                index += 2
                try need(length)
                let content = Array(bytes[index..<(index + length)])
                index += length
                value = type == 6 ? .bytes(content) : .string(String(decoding: content, as: UTF8.self))
            case 8:
                try need(8)
                value = .timestamp(integer(8))
                index += 8
            case 9:
                try need(16)
                value = .uuid(Array(bytes[index..<(index + 16)]))
                index += 16
            default:
                throw AWSEventStreamError(reason: "unknown header type \(type)")
            }
            guard headers[name] == nil else { throw AWSEventStreamError(reason: "duplicate header \(name)") }
            headers[name] = value
        }
        return headers
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// CRC-32 (IEEE 802.3, as zlib computes it).
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { value -> UInt32 in
        var crc = UInt32(value)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }
}
