import Foundation

/// A read-only view of a resolver for `/config_dump`. It holds no secret material at all: no secret key, session
/// token, identity token, nor even the access key id.
public struct AWSCredentialStatus: Sendable, Codable, Hashable {
    /// `web-identity`, `pod-identity`, `environment`, `profile` or `none`.
    public var source: String
    /// The role assumed with web identity; nil for the other sources.
    public var roleARN: String?
    public var region: String
    /// When the cached credentials expire; nil when there are none or they do not expire.
    public var expiration: Date?
    /// Successful fetches so far, the first included.
    public var refreshes: Int
    /// The description of the last failed fetch, cleared by the next success.
    public var lastError: String?

    public init(source: String, roleARN: String?, region: String, expiration: Date?, refreshes: Int, lastError: String?) {
        self.source = source
        self.roleARN = roleARN
        self.region = region
        self.expiration = expiration
        self.refreshes = refreshes
        self.lastError = lastError
    }
}
