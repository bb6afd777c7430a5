/// The syntax error found in a JSON text: where and what.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset of the problem.
    public var offset: Int
    public var reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// The kind of a JSON value.
public enum JSONKind: Sendable, Hashable {
    case object, array, string, number, bool, null
}

/// A value inside a ``JSONDocument``: its kind and the bytes it spans.
public struct JSONNode: Sendable, Hashable {
    public var kind: JSONKind
    public var range: Range<Int>
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONNode
    /// From the opening quote of the key to the end of the value.
    public var range: Range<Int>
}

/// A validated JSON text that can be read and edited without decoding all of it.
///
/// The sidecar reads only the few fields routing needs (`model`, `stream`, `stream_options`) and rewrites
/// them in place, so everything else passes through byte for byte: no re-serialisation, no reordered keys,
/// no changed number formatting. Validation is strict RFC 8259 with a nesting limit, so deeply nested
/// input cannot exhaust the stack.
public struct JSONDocument: Sendable {
    public let bytes: [UInt8]
    public let root: JSONNode

    /// Nesting deeper than this is refused.
    public static let maximumDepth = 128

    /// Validates `bytes` as one JSON value, optionally surrounded by whitespace.
    public init(validating bytes: [UInt8]) throws(JSONSyntaxError) {
        self.bytes = bytes
        var scanner = JSONScanner(bytes: bytes)
        scanner.skipWhitespace()
        let root = try scanner.scanValue(depth: 0)
        scanner.skipWhitespace()
        guard scanner.position == bytes.count else {
            throw JSONSyntaxError(offset: scanner.position, reason: "unexpected data after the JSON value")
        }
        self.root = root
    }

    /// The members of an object node, in order.
    public func members(of node: JSONNode) -> [JSONMember] {
        var result: [JSONMember] = []
        forEachMember(of: node) { keyNode, range, value in
            guard let key = string(keyNode) else { return false }
            result.append(JSONMember(key: key, value: value, range: range))
            return true
        }
        return result
    }

    /// The value of `key` in an object node (the first, if the key repeats), with keys compared as Swift strings. The
    /// walk stops at the match and builds no member array; ASCII keys without escapes are compared as bytes, which
    /// for ASCII is the same comparison.
    public func member(_ key: String, of node: JSONNode) -> JSONNode? {
        var found: JSONNode?
        var wanted = key
        wanted.withUTF8 { wantedBytes in
            let wantedIsASCII = wantedBytes.allSatisfy { $0 < 0x80 }
            forEachMember(of: node) { keyNode, _, value in
                let inner = (keyNode.range.lowerBound + 1)..<(keyNode.range.upperBound - 1)
                let matches: Bool
                if wantedIsASCII, bytes[inner].allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\\") }) {
                    matches = inner.count == wantedBytes.count && bytes[inner].elementsEqual(wantedBytes)
                } else {
                    matches = string(keyNode) == key
                }
                if matches { found = value }
                return !matches
            }
        }
        return found
    }

    /// Calls `body` with each member's key node, whole range and value, in order, until it returns false.
    private func forEachMember(of node: JSONNode, _ body: (_ key: JSONNode, _ range: Range<Int>, _ value: JSONNode) -> Bool) {
        guard node.kind == .object else { return }
        var scanner = JSONScanner(bytes: bytes, position: node.range.lowerBound + 1)
        // The document is already validated, so scanning again cannot fail; errors end the walk defensively.
        while true {
            scanner.skipWhitespace()
            guard scanner.position < node.range.upperBound, bytes[scanner.position] == UInt8(ascii: "\"") else { return }
            let keyStart = scanner.position
            guard let keyNode = try? scanner.scanValue(depth: 0), keyNode.kind == .string else { return }
            scanner.skipWhitespace()
            scanner.position += 1  // the colon
            scanner.skipWhitespace()
            guard let value = try? scanner.scanValue(depth: 1) else { return }
            guard body(keyNode, keyStart..<value.range.upperBound, value) else { return }
            scanner.skipWhitespace()
            if scanner.position < bytes.count, bytes[scanner.position] == UInt8(ascii: ",") { scanner.position += 1 } else { return }
        }
    }

    /// Follows a path of object keys from `node` (the root by default).
    public func value(at path: String..., from node: JSONNode? = nil) -> JSONNode? {
        var current = node ?? root
        for key in path {
            guard let next = member(key, of: current) else { return nil }
            current = next
        }
        return current
    }

    /// The elements of an array node, in order.
    public func elements(of node: JSONNode) -> [JSONNode] {
        guard node.kind == .array else { return [] }
        var scanner = JSONScanner(bytes: bytes, position: node.range.lowerBound + 1)
        var result: [JSONNode] = []
        while true {
            scanner.skipWhitespace()
            guard scanner.position < node.range.upperBound - 1, let element = try? scanner.scanValue(depth: 1) else { break }
            result.append(element)
            scanner.skipWhitespace()
            if scanner.position < bytes.count, bytes[scanner.position] == UInt8(ascii: ",") { scanner.position += 1 } else { break }
        }
        return result
    }

    /// The decoded text of a string node.
    public func string(_ node: JSONNode) -> String? {
        guard node.kind == .string else { return nil }
        let inner = bytes[(node.range.lowerBound + 1)..<(node.range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return JSONStringDecoding.unescape(inner)
    }

    /// An integer node's value; `nil` for fractions, exponents and out-of-range numbers.
    public func int(_ node: JSONNode) -> Int? {
        guard node.kind == .number else { return nil }
        return Int(String(decoding: bytes[node.range], as: UTF8.self))
    }

    /// A number node's value.
    public func double(_ node: JSONNode) -> Double? {
        guard node.kind == .number else { return nil }
        return Double(String(decoding: bytes[node.range], as: UTF8.self))
    }

    /// A boolean node's value.
    public func bool(_ node: JSONNode) -> Bool? {
        guard node.kind == .bool else { return nil }
        return bytes[node.range.lowerBound] == UInt8(ascii: "t")
    }

    /// The raw bytes of a node.
    public func slice(_ node: JSONNode) -> ArraySlice<UInt8> { bytes[node.range] }
}

/// A strict, allocation-free JSON validator that records where values start and end.
struct JSONScanner {
    let bytes: [UInt8]
    var position: Int

    init(bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: reason)
    }

    mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        let start = position
        switch bytes[position] {
        case UInt8(ascii: "{"):
            try scanObject(depth: depth + 1)
            return JSONNode(kind: .object, range: start..<position)
        case UInt8(ascii: "["):
            try scanArray(depth: depth + 1)
            return JSONNode(kind: .array, range: start..<position)
        case UInt8(ascii: "\""):
            try scanString()
            return JSONNode(kind: .string, range: start..<position)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return JSONNode(kind: .bool, range: start..<position)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return JSONNode(kind: .bool, range: start..<position)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return JSONNode(kind: .null, range: start..<position)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return JSONNode(kind: .number, range: start..<position)
        default:
            throw fail("unexpected character '\(Unicode.Scalar(bytes[position]))'")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("truncated literal") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        guard matches else { throw fail("invalid literal") }
        position += count
    }

    private mutating func scanObject(depth: Int) throws(JSONSyntaxError) {
        guard depth <= JSONDocument.maximumDepth else { throw fail("nesting deeper than \(JSONDocument.maximumDepth)") }
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated object") }
            guard bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            try scanString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
            position += 1
            skipWhitespace()
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            position += 1
            return
        }
    }

    private mutating func scanArray(depth: Int) throws(JSONSyntaxError) {
        guard depth <= JSONDocument.maximumDepth else { throw fail("nesting deeper than \(JSONDocument.maximumDepth)") }
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            position += 1
            return
        }
    }

    private mutating func scanString() throws(JSONSyntaxError) {
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { throw fail("unterminated escape") }
                let escaped = bytes[position + 1]
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard position + 6 <= bytes.count, (2..<6).allSatisfy({ Self.isHexDigit(bytes[position + $0]) }) else {
                        throw fail("invalid \\u escape")
                    }
                    position += 6
                default:
                    throw fail("invalid escape")
                }
            case 0x00..<0x20:
                throw fail("control character in string")
            default:
                position += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func scanNumber() throws(JSONSyntaxError) {
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, Self.isDigit(bytes[position]) else { throw fail("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw fail("invalid fraction") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw fail("invalid exponent") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }
}

/// Decoding of JSON string escapes, including UTF-16 surrogate pairs.
enum JSONStringDecoding {
    static func unescape(_ inner: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(inner.count)
        var index = inner.startIndex
        var pendingHighSurrogate: UInt32?
        while index < inner.endIndex {
            let byte = inner[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escaped = inner[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = UInt32(String(decoding: inner[index..<(index + 4)], as: UTF8.self), radix: 16) else { return nil }
                index += 4
                var scalarValue = unit
                if (0xD800...0xDBFF).contains(unit) {
                    pendingHighSurrogate = unit
                    continue
                }
                if (0xDC00...0xDFFF).contains(unit), let high = pendingHighSurrogate {
                    scalarValue = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)
                }
                pendingHighSurrogate = nil
                let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: output.append(escaped)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
