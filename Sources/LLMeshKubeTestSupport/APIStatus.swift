import LLMeshKube

/// A failure answer of the API server, rendered as a `Status` object with the real reasons and codes.
struct APIStatus: Error, Sendable {
    var code: Int
    var reason: String
    var message: String

    static func notFound(_ what: String) -> APIStatus { APIStatus(code: 404, reason: "NotFound", message: "\(what) not found") }
    static func badRequest(_ message: String) -> APIStatus { APIStatus(code: 400, reason: "BadRequest", message: message) }
    static func conflict(_ message: String) -> APIStatus { APIStatus(code: 409, reason: "Conflict", message: message) }
    static func alreadyExists(_ what: String) -> APIStatus { APIStatus(code: 409, reason: "AlreadyExists", message: "\(what) already exists") }
    static func invalid(_ what: String, _ causes: [String]) -> APIStatus {
        APIStatus(code: 422, reason: "Invalid", message: "\(what) is invalid: \(causes.joined(separator: ", "))")
    }
    static func expired(_ message: String) -> APIStatus { APIStatus(code: 410, reason: "Expired", message: message) }
    static func methodNotAllowed(_ message: String) -> APIStatus { APIStatus(code: 405, reason: "MethodNotAllowed", message: message) }

    var json: JSONValue {
        ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .number(Double(code))]
    }
}
