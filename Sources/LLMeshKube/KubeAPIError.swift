/// An error answer of the API server (a `Status` object), or a transport failure.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    /// HTTP status, or 0 when no answer arrived.
    public var code: Int
    /// The `Status.reason` (`NotFound`, `Conflict`, `Expired`…), when the server gave one.
    public var reason: String?
    public var message: String
    /// Seconds from a `Retry-After` header.
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String? = nil, message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Builds the error from a `Status` body, falling back to the raw text.
    init(code: Int, body: [UInt8], retryAfter: String? = nil) {
        let status = try? JSONValue.parse(body)
        let message = status?["message"]?.stringValue ?? String(decoding: body.prefix(512), as: UTF8.self)
        self.init(code: code, reason: status?["reason"]?.stringValue, message: message, retryAfterSeconds: retryAfter.flatMap { Int($0) })
    }

    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }
    /// 410 Gone / reason Expired: the resourceVersion is too old; relist.
    public var isExpired: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    /// Worth retrying with backoff: throttling, server errors and transport failures.
    public var isTransient: Bool { code == 0 || code == 429 || code >= 500 }

    public var description: String {
        "Kubernetes API error \(code)\(reason.map { " \($0)" } ?? ""): \(message)"
    }
}
