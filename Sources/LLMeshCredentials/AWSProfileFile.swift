import Foundation

/// One parsed AWS shared file (`~/.aws/credentials` or `~/.aws/config`): its sections and their settings.
///
/// The format is the INI dialect botocore reads with `configparser`: `[section]` headers, `key = value` (or
/// `key: value`) lines, whole-line comments starting with `#` or `;`, and lines indented deeper than the setting
/// above them, which continue it (nested settings such as `s3 =` followed by indented `max_concurrent_requests = 20`,
/// which llmesh has no use for and skips). Keys are case-insensitive. A line that fits none of these is an error naming the file and
/// line, as botocore refuses such a file rather than guessing.
struct AWSProfileFile: Sendable, Equatable {
    /// Files larger than this are refused: a shared config file is a few kilobytes.
    static let maximumBytes = 1 << 20

    /// Settings by section name as written between the brackets (`default`, `profile dev`, `dev`), keys lowercased.
    var sections: [String: [String: String]]

    /// Why a file cannot be read.
    struct ParseError: Error, Equatable {
        var line: Int
        var message: String
    }

    init(sections: [String: [String: String]]) {
        self.sections = sections
    }

    /// Parses `data`. `line` in the error counts from 1; 0 means the whole file.
    init(parsing data: Data) throws(ParseError) {
        guard data.count <= Self.maximumBytes else {
            throw ParseError(line: 0, message: "larger than \(Self.maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ParseError(line: 0, message: "not UTF-8 text")
        }
        var sections: [String: [String: String]] = [:]
        var current: String?
        // The indentation of the setting that is open, as configparser tracks it: a line indented deeper continues
        // that setting; any other line starts a new one (indented or not).
        var openSettingIndent: Int?
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = offset + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let openSettingIndent, indent > openSettingIndent { continue }
            if trimmed.hasPrefix("[") {
                // As configparser's `\[(?P<header>.+)\]`: the name runs to the last `]`; anything after it is ignored.
                guard let close = trimmed.lastIndex(of: "]") else {
                    throw ParseError(line: number, message: "a section header must look like [name]")
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { throw ParseError(line: number, message: "a section header must look like [name]") }
                current = name
                if sections[name] == nil { sections[name] = [:] }
                openSettingIndent = nil
                continue
            }
            guard let section = current else {
                throw ParseError(line: number, message: indent > 0 ? "indented line outside a setting" : "a setting before any [section]")
            }
            guard let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ParseError(line: number, message: "expected key = value")
            }
            let key = trimmed[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else { throw ParseError(line: number, message: "a setting without a name") }
            let value = trimmed[trimmed.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
            openSettingIndent = indent
        }
        self.sections = sections
    }
}
