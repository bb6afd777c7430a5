import Crypto
import Foundation
import LLMeshModel

/// The pod a sidecar serves: where policies with a `workloadSelector` look.
public struct WorkloadIdentity: Sendable, Hashable, Codable {
    public var namespace: String
    public var serviceAccount: String
    public var labels: [String: String]

    public init(namespace: String = "default", serviceAccount: String = "default", labels: [String: String] = [:]) {
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.labels = labels
    }

    /// Reads `LLMESH_POD_NAMESPACE`, `LLMESH_POD_SERVICE_ACCOUNT` and `LLMESH_POD_LABELS` (`k=v,k=v`, or a path to a
    /// downward-API labels file with `k="v"` lines), as the injector sets them.
    public static func fromEnvironment(_ environment: [String: String]) -> WorkloadIdentity {
        var identity = WorkloadIdentity()
        if let namespace = environment["LLMESH_POD_NAMESPACE"], !namespace.isEmpty { identity.namespace = namespace }
        if let account = environment["LLMESH_POD_SERVICE_ACCOUNT"], !account.isEmpty { identity.serviceAccount = account }
        if let labels = environment["LLMESH_POD_LABELS"], !labels.isEmpty {
            if labels.hasPrefix("/"), let data = FileManager.default.contents(atPath: labels) {
                identity.labels = parseLabels(String(decoding: data, as: UTF8.self), separator: "\n")
            } else {
                identity.labels = parseLabels(labels, separator: ",")
            }
        }
        return identity
    }

    /// Parses `k=v` pairs; values may be double-quoted as in downward-API files.
    static func parseLabels(_ text: String, separator: Character) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: separator) {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let key = String(pair[..<equals].trimmingCharactersInWhitespace())
            var value = String(pair[pair.index(after: equals)...].trimmingCharactersInWhitespace())
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if !key.isEmpty { labels[key] = value }
        }
        return labels
    }

    /// Whether `selector` (absent: everyone) selects this workload.
    public func matches(_ selector: WorkloadSelector?) -> Bool {
        guard let selector else { return true }
        let labelsMatch = selector.matchLabels.allSatisfy { labels[$0.key] == $0.value }
        let accountMatches = selector.serviceAccounts.isEmpty || selector.serviceAccounts.contains(serviceAccount)
        return labelsMatch && accountMatches
    }
}

/// A virtual key ready for lookups.
public struct ResolvedVirtualKey: Sendable {
    public var name: String
    public var spec: VirtualKeySpec
    /// Unix seconds after which the key is refused.
    public var expiresAt: Int64?

    /// The loggable id: the key's public prefix, else its resource name.
    public var id: String { spec.keyIDPrefix ?? name }
}

/// Hashing of presented keys; the sidecar never keeps a key itself.
enum KeyHash {
    static func sha256Hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(text.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Parses an RFC 3339 time into Unix seconds.
    static func unixSeconds(rfc3339 text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

/// `*` globs for model names (`gpt-4o*`, `*-mini`, `*`).
enum ModelGlob {
    /// Whether `name` matches `pattern`, byte for byte on UTF-8 (every request checks its model against the key's
    /// and the policies' patterns).
    static func matches(_ pattern: String, _ name: String) -> Bool {
        let star = UInt8(ascii: "*")
        guard pattern.utf8.contains(star) else { return pattern == name }
        let name = Array(name.utf8)
        let parts = Array(pattern.utf8).split(separator: star, omittingEmptySubsequences: false)
        // With a `*` there are at least two parts: the prefix, the suffix, and in between pieces found in order.
        guard let prefix = parts.first, let suffix = parts.last, name.starts(with: prefix) else { return false }
        var cursor = prefix.count
        for piece in parts.dropFirst().dropLast() where !piece.isEmpty {
            guard let end = endOfFirstMatch(of: piece, in: name, from: cursor) else { return false }
            cursor = end
        }
        return name.count - cursor >= suffix.count && name.suffix(suffix.count).elementsEqual(suffix)
    }

    /// Where the first occurrence of `piece` at or after `start` ends.
    private static func endOfFirstMatch(of piece: ArraySlice<UInt8>, in name: [UInt8], from start: Int) -> Int? {
        guard name.count - start >= piece.count else { return nil }
        for offset in start...(name.count - piece.count) where name[offset..<(offset + piece.count)].elementsEqual(piece) {
            return offset + piece.count
        }
        return nil
    }

    /// Whether a model (any of its names) is allowed by `patterns` (empty: everything).
    static func allows(_ patterns: [String], names: [String]) -> Bool {
        patterns.isEmpty || patterns.contains { pattern in names.contains { matches(pattern, $0) } }
    }
}
