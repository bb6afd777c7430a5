/// A value of the Redis serialization protocol (RESP2).
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    case bulkString([UInt8]?)
    case array([RESPValue]?)

    /// The value as an integer, when it is one (or a bulk string of digits).
    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulkString(let bytes?): return Int64(String(decoding: bytes, as: UTF8.self))
        case .simpleString(let text): return Int64(text)
        default: return nil
        }
    }

    /// Encodes a command as the array of bulk strings Redis expects.
    public static func command(_ parts: [String]) -> [UInt8] {
        var out = Array("*\(parts.count)\r\n".utf8)
        for part in parts {
            let bytes = Array(part.utf8)
            out += Array("$\(bytes.count)\r\n".utf8) + bytes + [13, 10]
        }
        return out
    }
}

/// Why a RESP reply could not be parsed.
public struct RESPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid RESP reply: \(reason)" }
}

/// An incremental RESP2 parser: feed bytes as they arrive, take complete values out.
///
/// Bounded: bulk strings over `maximumBulkBytes`, arrays over `maximumArrayCount` elements and nesting over 16
/// levels are refused instead of allocating what a broken or hostile server claims.
public struct RESPParser: Sendable {
    public var maximumBulkBytes = 16 * 1024 * 1024
    public var maximumArrayCount = 1_000_000
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, `nil` if more bytes are needed, or an error for malformed input.
    public mutating func next() throws(RESPParseError) -> RESPValue? {
        var position = start
        guard let value = try parse(at: &position, depth: 0) else { return nil }
        start = position
        if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        return value
    }

    private func line(at position: inout Int) throws(RESPParseError) -> ArraySlice<UInt8>? {
        var index = position
        while index + 1 < buffer.count {
            if buffer[index] == 13 {
                guard buffer[index + 1] == 10 else { throw RESPParseError(reason: "CR without LF") }
                let line = buffer[position..<index]
                position = index + 2
                return line
            }
            index += 1
        }
        if buffer.count - position > 64 * 1024 { throw RESPParseError(reason: "line longer than 64 KiB") }
        return nil
    }

    private func integer(_ line: ArraySlice<UInt8>) throws(RESPParseError) -> Int64 {
        guard let value = Int64(String(decoding: line, as: UTF8.self)) else {
            throw RESPParseError(reason: "not an integer: \(String(decoding: line.prefix(32), as: UTF8.self))")
        }
        return value
    }

    private func parse(at position: inout Int, depth: Int) throws(RESPParseError) -> RESPValue? {
        guard depth < 16 else { throw RESPParseError(reason: "nesting deeper than 16") }
        guard position < buffer.count else { return nil }
        let type = buffer[position]
        var cursor = position + 1
        guard let header = try line(at: &cursor) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            position = cursor
            return .simpleString(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: "-"):
            position = cursor
            return .error(String(decoding: header, as: UTF8.self))
        case UInt8(ascii: ":"):
            let value = try integer(header)
            position = cursor
            return .integer(value)
        case UInt8(ascii: "$"):
            let length = try integer(header)
            if length == -1 {
                position = cursor
                return .bulkString(nil)
            }
            guard length >= 0, length <= maximumBulkBytes else { throw RESPParseError(reason: "bulk length \(length) out of range") }
            let end = cursor + Int(length)
            guard end + 2 <= buffer.count else { return nil }
            guard buffer[end] == 13, buffer[end + 1] == 10 else { throw RESPParseError(reason: "bulk string not terminated by CRLF") }
            position = end + 2
            return .bulkString(Array(buffer[cursor..<end]))
        case UInt8(ascii: "*"):
            let count = try integer(header)
            if count == -1 {
                position = cursor
                return .array(nil)
            }
            guard count >= 0, count <= maximumArrayCount else { throw RESPParseError(reason: "array length \(count) out of range") }
            var elements: [RESPValue] = []
            for _ in 0..<count {
                guard let element = try parse(at: &cursor, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            position = cursor
            return .array(elements)
        default:
            throw RESPParseError(reason: "unknown type byte \(type)")
        }
    }
}
