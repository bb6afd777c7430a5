/// Why credentials cannot be had. `description` names the source and the STS (or agent) error code, never a secret
/// key, session token or identity token.
public struct AWSCredentialError: Error, Sendable, CustomStringConvertible {
    /// What the caller can do about it.
    public enum Kind: Sendable, Hashable {
        /// Nothing usable is configured (or the configuration is invalid): retrying will not help.
        case notConfigured
        /// STS or the agent refused (AccessDenied, InvalidIdentityToken, other 4xx).
        case rejected
        /// The source could not be reached or answered badly (connection errors, 5xx, throttling, unreadable token file).
        case unavailable
    }

    public var kind: Kind
    /// The source: `web-identity`, `pod-identity`, `environment`, `profile` or `none`.
    public var source: String
    /// The STS or agent error code, such as `AccessDenied` or `IDPCommunicationError`, when there is one.
    public var code: String?
    /// What went wrong, for people: paths, hosts and codes, no secret material.
    public var message: String

    public init(kind: Kind, source: String, code: String? = nil, message: String) {
        self.kind = kind
        self.source = source
        self.code = code
        self.message = message
    }

    public var description: String {
        let what: String
        switch kind {
        case .notConfigured: what = "not configured"
        case .rejected: what = "rejected"
        case .unavailable: what = "unavailable"
        }
        let code = code.map { " (\($0))" } ?? ""
        return "AWS credentials (\(source)) \(what)\(code): \(message)"
    }
}
