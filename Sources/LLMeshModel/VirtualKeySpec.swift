/// `VirtualKey.spec`: a key an app or team presents, mapped to policy.
///
/// The sidecar only ever sees the key's SHA-256: in a cluster the operator hashes the Secret, and a standalone
/// file names the hash (`keyHash: sha256:<64 hex>`) or a file holding the key.
public struct VirtualKeySpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "VirtualKey"

    public var secretRef: SecretKeyReference?
    /// `sha256:` followed by 64 lowercase hex digits.
    public var keyHash: String?
    /// A file holding the key itself, hashed when read.
    public var keyFile: String?
    /// A public, loggable prefix identifying the key (for example `team-a`).
    public var keyIDPrefix: String?
    public var allowedModels: [String]
    public var limits: RateLimits?
    /// Limits for particular models used with this key.
    public var modelLimits: [ModelLimits]
    public var budget: Budget?
    /// RFC 3339 time after which the key is refused.
    public var expiresAt: String?
    public var disabled: Bool

    init(reading reader: inout FieldReader) {
        secretRef = reader.object("secretRef") { SecretKeyReference.read(&$0) } ?? nil
        keyHash = reader.string("keyHash")
        keyFile = reader.string("keyFile")
        keyIDPrefix = reader.string("keyIDPrefix")
        allowedModels = reader.stringList("allowedModels")
        limits = reader.object("limits") { RateLimits.read(&$0) }
        modelLimits = reader.objectList("modelLimits") { ModelLimits.read(&$0) }
        budget = reader.object("budget") { Budget.read(&$0) } ?? nil
        expiresAt = reader.string("expiresAt")
        disabled = reader.bool("disabled") ?? false

        let sources = [secretRef != nil, keyHash != nil, keyFile != nil].filter { $0 }.count
        if sources != 1 { reader.report("", "needs exactly one of secretRef, keyHash or keyFile") }
        if let keyHash, !Self.isValidHash(keyHash) {
            reader.report("keyHash", "must be sha256: followed by 64 lowercase hex digits")
        }
        if let expiresAt, !RFC3339.looksValid(expiresAt) {
            reader.report("expiresAt", "must be an RFC 3339 time such as 2026-12-31T23:59:59Z, got \"\(expiresAt)\"")
        }
        for (index, pattern) in allowedModels.enumerated() {
            if let problem = ModelPattern.problem(with: pattern) { reader.report("allowedModels[\(index)]", problem) }
        }
    }

    static func isValidHash(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}

/// Shape checks for RFC 3339 timestamps without Foundation.
enum RFC3339 {
    static func looksValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return false }
        let digitPositions = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        let isDigit: (UInt8) -> Bool = { $0 >= 48 && $0 <= 57 }
        guard digitPositions.allSatisfy({ isDigit(bytes[$0]) }) else { return false }
        guard bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 116, bytes[13] == 58, bytes[16] == 58 else { return false }
        let last = bytes[bytes.count - 1]
        return last == 90 || last == 122 || isDigit(last)
    }
}
