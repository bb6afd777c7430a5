import Foundation

/// AWS credentials for signing: long-lived keys, or temporary ones with a session token and an expiration.
///
/// `description` and `debugDescription` show only the first four characters of the access key id (`AKIA`/`ASIA`) and
/// the expiration, so that interpolating credentials into a log line never leaks them.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-lived keys, which are then cached forever.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// The first four characters of the access key id: enough to tell long-lived (`AKIA`) from temporary (`ASIA`).
    public var accessKeyIDPrefix: String { String(accessKeyID.prefix(4)) }

    public var description: String {
        let expiry = expiration.map { ", expiration: \($0.ISO8601Format())" } ?? ""
        return "AWSCredentials(accessKeyID: \(accessKeyIDPrefix)…\(expiry))"
    }

    public var debugDescription: String { description }

    /// `dump()` and debuggers see the same redacted view.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyIDPrefix": accessKeyIDPrefix, "expiration": expiration as Any], displayStyle: .struct)
    }
}
