/// An error answer from the upstream, read from any schema and rewritten in the caller's, keeping its message.
///
/// The class comes from the upstream's type name (OpenAI `error.type`, Anthropic `error.type`, Bedrock
/// `x-amzn-errortype` up to its `:`, or the body's `__type` after its `#`), else from the HTTP status. The caller gets
/// its own schema's type name for that class; the upstream's type name is kept as OpenAI's `code`.
struct UpstreamError: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case invalidRequest, authentication, permission, notFound, requestTooLarge, rateLimit, overloaded, timeout, server
    }

    var kind: Kind
    var message: String
    /// The upstream's own name for the error (`ThrottlingException`, `overloaded_error`, `rate_limit_exceeded`…).
    var upstreamType: String?
    /// OpenAI's `param`, when the upstream named one.
    var parameter: String?

    init(kind: Kind, message: String, upstreamType: String? = nil, parameter: String? = nil) {
        self.kind = kind
        self.message = message
        self.upstreamType = upstreamType
        self.parameter = parameter
    }

    /// Reads an error answer of `schema`.
    init(status: Int, headers: [(String, String)], body: [UInt8], schema: WireSchema) {
        let tree = try? JSONTree(parsing: body)
        var message: String?
        var type: String?
        var parameter: String?
        switch schema {
        case .openAIChat:
            let error = tree?["error"]
            message = error?["message"]?.stringValue ?? error?.stringValue
            type = error?["type"]?.stringValue
            parameter = error?["param"]?.stringValue
            let code = error?["code"]?.stringValue
            self.init(kind: Self.kind(named: type, status: status), message: "", upstreamType: code ?? type, parameter: parameter)
        case .anthropicMessages:
            message = tree?["error"]?["message"]?.stringValue
            type = tree?["error"]?["type"]?.stringValue
            self.init(kind: Self.kind(named: type, status: status), message: "", upstreamType: type)
        case .bedrockConverse:
            message = tree?["message"]?.stringValue ?? tree?["Message"]?.stringValue
            let header = headers.first { $0.0.lowercased() == "x-amzn-errortype" }?.1
            type = Self.awsType(header: header, body: tree?["__type"]?.stringValue)
            self.init(kind: Self.kind(named: type, status: status), message: "", upstreamType: type)
        }
        self.message = message ?? Self.fallbackMessage(status: status, body: body)
    }

    private static func fallbackMessage(status: Int, body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self).filter { !$0.isNewline && $0 != "\t" }
        return text.isEmpty ? "The upstream answered HTTP \(status)." : "The upstream answered HTTP \(status): \(text)"
    }

    /// `ThrottlingException:http://internal.amazon.com/…` → `ThrottlingException`; `aws.protocols#ValidationException` → `ValidationException`.
    static func awsType(header: String?, body: String?) -> String? {
        if let header, let name = header.split(separator: ":", maxSplits: 1).first, !name.isEmpty { return String(name) }
        if let body, let name = body.split(separator: "#").last, !name.isEmpty { return String(name) }
        return nil
    }

    /// Statuses that say the class outright win (OpenAI answers 401 with `invalid_request_error`); otherwise the
    /// type name decides, and the status is the fallback.
    static func kind(named name: String?, status: Int) -> Kind {
        switch status {
        case 401: return .authentication
        case 403: return .permission
        case 404: return .notFound
        case 413: return .requestTooLarge
        case 429: return .rateLimit
        default: break
        }
        switch name?.lowercased() {
        case "invalid_request_error", "validationexception", "invalid_request", "bad_request": return .invalidRequest
        case "authentication_error", "unrecognizedclientexception", "invalid_api_key", "expiredtokenexception": return .authentication
        case "permission_error", "accessdeniedexception", "billing_error": return .permission
        case "not_found_error", "resourcenotfoundexception", "model_not_found": return .notFound
        case "request_too_large": return .requestTooLarge
        case "rate_limit_error", "throttlingexception", "servicequotaexceededexception", "rate_limit_exceeded", "insufficient_quota":
            return .rateLimit
        case "overloaded_error", "serviceunavailableexception", "modelnotreadyexception": return .overloaded
        case "timeout_error", "modeltimeoutexception": return .timeout
        case "api_error", "server_error", "internalserverexception", "modelerrorexception", "modelstreamerrorexception": return .server
        default: break
        }
        switch status {
        case 400, 422: return .invalidRequest
        case 401: return .authentication
        case 402, 403: return .permission
        case 404: return .notFound
        case 413: return .requestTooLarge
        case 429: return .rateLimit
        case 503, 529: return .overloaded
        case 408, 504: return .timeout
        default: return .server
        }
    }

    /// The error body in `schema`.
    func body(for schema: WireSchema) -> JSONTree {
        switch schema {
        case .openAIChat:
            return ["error": [
                "message": .string(message),
                "type": .string(openAIType),
                "param": parameter.map(JSONTree.string) ?? .null,
                "code": upstreamType.map(JSONTree.string) ?? .null,
            ]]
        case .anthropicMessages:
            return ["type": "error", "error": ["type": .string(anthropicType), "message": .string(message)]]
        case .bedrockConverse:
            return ["message": .string(message), "__type": .string(awsType)]
        }
    }

    /// What a stream failure is recorded as.
    var sidecarError: SidecarError {
        let name = upstreamType.map { "\($0): " } ?? ""
        return SidecarError(kind == .timeout ? .upstreamTimeout : .upstreamProtocolError, "The upstream stream failed: \(name)\(message)")
    }

    var openAIType: String {
        switch kind {
        case .invalidRequest, .notFound, .requestTooLarge: return "invalid_request_error"
        case .authentication: return "authentication_error"
        case .permission: return "permission_error"
        case .rateLimit: return "rate_limit_error"
        case .overloaded, .timeout, .server: return "api_error"
        }
    }

    var anthropicType: String {
        switch kind {
        case .invalidRequest: return "invalid_request_error"
        case .authentication: return "authentication_error"
        case .permission: return "permission_error"
        case .notFound: return "not_found_error"
        case .requestTooLarge: return "request_too_large"
        case .rateLimit: return "rate_limit_error"
        case .overloaded: return "overloaded_error"
        case .timeout: return "timeout_error"
        case .server: return "api_error"
        }
    }

    var awsType: String {
        switch kind {
        case .invalidRequest, .requestTooLarge: return "ValidationException"
        case .authentication, .permission: return "AccessDeniedException"
        case .notFound: return "ResourceNotFoundException"
        case .rateLimit: return "ThrottlingException"
        case .overloaded: return "ServiceUnavailableException"
        case .timeout: return "ModelTimeoutException"
        case .server: return "InternalServerException"
        }
    }
}
