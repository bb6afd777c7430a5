/// A minimal, bounded reader for the flat, attribute-free XML that STS answers with: it finds an element by name
/// inside a range and returns its text. It is not a general XML parser and does not need to be one: it expands no
/// entities beyond the five predefined ones and numeric references, refuses documents with a DTD, and leaf text that
/// contains markup (nested elements, CDATA, comments) reads as missing rather than guessed at.
///
/// Every search is a forward scan over the bytes, so a document of `n` bytes costs O(n) per lookup.
struct XMLTagScanner: Sendable {
    /// Larger documents are refused outright.
    static let maximumDocumentBytes = 1 << 20

    let bytes: [UInt8]

    /// nil when `bytes` is over ``maximumDocumentBytes`` or declares a DTD (`<!DOCTYPE`, `<!ENTITY`).
    init?(_ bytes: [UInt8]) {
        guard bytes.count <= Self.maximumDocumentBytes else { return nil }
        guard Self.find(Array("<!DOCTYPE".utf8), in: bytes, from: 0, to: bytes.count) == nil,
              Self.find(Array("<!ENTITY".utf8), in: bytes, from: 0, to: bytes.count) == nil
        else { return nil }
        self.bytes = bytes
    }

    /// The whole document.
    var all: Range<Int> { 0..<bytes.count }

    /// The content of the first element `name` inside `range`, between its start tag and its end tag (empty for
    /// `<name/>`); nil when there is no such element or it is not closed inside `range`.
    func element(_ name: String, in range: Range<Int>) -> Range<Int>? {
        let open = Array(("<" + name).utf8)
        let close = Array(("</" + name).utf8)
        var cursor = range.lowerBound
        while let start = Self.find(open, in: bytes, from: cursor, to: range.upperBound) {
            let afterName = start + open.count
            guard afterName < range.upperBound else { return nil }
            let next = bytes[afterName]
            guard next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || Self.isSpace(next) else {
                cursor = afterName  // a longer name that starts with `name`
                continue
            }
            guard let tagEnd = Self.find([UInt8(ascii: ">")], in: bytes, from: afterName, to: range.upperBound) else { return nil }
            if bytes[tagEnd - 1] == UInt8(ascii: "/") { return (tagEnd + 1)..<(tagEnd + 1) }
            let contentStart = tagEnd + 1
            var search = contentStart
            while let end = Self.find(close, in: bytes, from: search, to: range.upperBound) {
                var index = end + close.count
                while index < range.upperBound, Self.isSpace(bytes[index]) { index += 1 }
                if index < range.upperBound, bytes[index] == UInt8(ascii: ">") { return contentStart..<end }
                search = end + close.count
            }
            return nil
        }
        return nil
    }

    /// The text of the first leaf element `name` inside `range`, entities decoded and surrounding whitespace trimmed;
    /// nil when missing, unclosed, not valid UTF-8, or holding markup or an unknown entity.
    func text(_ name: String, in range: Range<Int>) -> String? {
        guard let content = element(name, in: range) else { return nil }
        return Self.decodeText(bytes[content])
    }

    /// Decodes character data: `&amp; &lt; &gt; &quot; &apos;` and `&#N;` / `&#xH;`.
    static func decodeText(_ raw: ArraySlice<UInt8>) -> String? {
        guard !raw.contains(UInt8(ascii: "<")) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            guard let semicolon = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { return nil }
            let entity = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
            guard let scalar = scalar(forEntity: entity) else { return nil }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            index = semicolon + 1
        }
        guard let text = String(validating: out, as: UTF8.self) else { return nil }
        return text.trimmingXMLSpace()
    }

    static func scalar(forEntity entity: String) -> Unicode.Scalar? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard entity.hasPrefix("#") else { return nil }
            let digits = entity.dropFirst()
            let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            return value.flatMap(Unicode.Scalar.init)
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The first index of `needle` in `haystack[from..<to]`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to: Int) -> Int? {
        guard let first = needle.first, to - from >= needle.count else { return nil }
        var index = from
        let last = to - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing XML whitespace (space, tab, CR, LF).
    fileprivate func trimmingXMLSpace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
