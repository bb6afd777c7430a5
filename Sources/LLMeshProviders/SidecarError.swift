/// An error the sidecar itself answers with: a stable code, an HTTP status SDKs retry correctly, and a message.
public struct SidecarError: Error, Sendable, Hashable {
    /// Stable machine-readable reasons, sent as `code` and in the `x-llmesh-error` header.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case invalidJSON = "invalid_json"
        case invalidRequest = "invalid_request"
        case requestTooLarge = "request_too_large"
        case modelNotFound = "model_not_found"
        case noRoute = "no_route"
        case methodNotAllowed = "method_not_allowed"
        case dialectMismatch = "dialect_mismatch"
        case credentialUnavailable = "credential_unavailable"
        case upstreamUnreachable = "upstream_unreachable"
        case upstreamTimeout = "upstream_timeout"
        case upstreamResponseTooLarge = "upstream_response_too_large"
        case upstreamProtocolError = "upstream_protocol_error"
        case shuttingDown = "shutting_down"
        case internalError = "internal_error"
        case invalidAPIKey = "invalid_api_key"
        case virtualKeyRequired = "virtual_key_required"
        case modelNotAllowed = "model_not_allowed"
        case guardrailBlocked = "guardrail_blocked"
        case promptTooLarge = "prompt_too_large"
        case rateLimitExceeded = "rate_limit_exceeded"
        case budgetExceeded = "budget_exceeded"
        case limitStoreUnavailable = "limit_store_unavailable"
        /// The request uses a feature the route's upstream API cannot express; refused rather than dropped.
        case untranslatable = "untranslatable_request"

        /// The HTTP status for this code.
        public var status: Int {
            switch self {
            case .invalidJSON, .invalidRequest, .dialectMismatch, .promptTooLarge, .untranslatable: return 400
            case .invalidAPIKey, .virtualKeyRequired: return 401
            case .modelNotAllowed, .guardrailBlocked: return 403
            case .rateLimitExceeded, .budgetExceeded: return 429
            case .requestTooLarge: return 413
            case .modelNotFound, .noRoute: return 404
            case .methodNotAllowed: return 405
            case .credentialUnavailable, .shuttingDown, .limitStoreUnavailable: return 503
            case .upstreamUnreachable, .upstreamResponseTooLarge, .upstreamProtocolError: return 502
            case .upstreamTimeout: return 504
            case .internalError: return 500
            }
        }
    }

    public var code: Code
    public var message: String
    /// The request field at fault, when there is one (OpenAI's `param`).
    public var parameter: String?
    /// Seconds the caller should wait before retrying (sent as `retry-after`).
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, parameter: String? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var status: Int { code.status }

    /// The error body in the caller's dialect.
    public func body(for dialect: APIDialect) -> String {
        switch dialect {
        case .openAI:
            let param = parameter.map(JSONText.quoted) ?? "null"
            return #"{"error":{"message":\#(JSONText.quoted(message)),"type":\#(JSONText.quoted(openAIType)),"param":\#(param),"code":\#(JSONText.quoted(code.rawValue))}}"#
        case .anthropic:
            return #"{"type":"error","error":{"type":\#(JSONText.quoted(anthropicType)),"message":\#(JSONText.quoted(message))}}"#
        case .bedrock:
            return #"{"message":\#(JSONText.quoted(message)),"__type":\#(JSONText.quoted(awsErrorType))}"#
        }
    }

    /// The AWS error code botocore raises as `ClientError` (sent in `x-amzn-errortype` and the body's `__type`).
    public var awsErrorType: String {
        switch status {
        case 400, 413: return "ValidationException"
        case 401, 403: return "AccessDeniedException"
        case 404: return "ResourceNotFoundException"
        case 405: return "ValidationException"
        case 429: return "ThrottlingException"
        case 503: return "ServiceUnavailableException"
        case 504: return "ModelTimeoutException"
        default: return "InternalServerException"
        }
    }

    private var openAIType: String {
        switch status {
        case 400, 404, 405, 413: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 429: return "rate_limit_error"
        default: return "api_error"
        }
    }

    private var anthropicType: String {
        switch status {
        case 400, 405: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 503: return "overloaded_error"
        case 504: return "timeout_error"
        default: return "api_error"
        }
    }
}
