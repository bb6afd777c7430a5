import Foundation

/// Reads a projected service-account token (IRSA or Pod Identity) afresh on every call, because the kubelet rotates
/// the file in place. Errors name the path, never the content.
enum TokenFile {
    /// STS accepts tokens up to 20,000 characters; anything far larger is not a token.
    static let maximumBytes = 64 * 1024

    /// The trimmed content of `path`.
    ///
    /// - Throws: `.unavailable` when the file cannot be read, is empty, too large, or not UTF-8.
    static func read(_ path: String, source: String) throws(AWSCredentialError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSCredentialError(kind: .unavailable, source: source, message: "cannot read the token file \(path)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw AWSCredentialError(kind: .unavailable, source: source, message: "cannot read the token file \(path)")
        }
        guard data.count <= maximumBytes else {
            throw AWSCredentialError(kind: .unavailable, source: source, message: "the token file \(path) is larger than \(maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AWSCredentialError(kind: .unavailable, source: source, message: "the token file \(path) is not UTF-8")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw AWSCredentialError(kind: .unavailable, source: source, message: "the token file \(path) is empty")
        }
        return token
    }
}
