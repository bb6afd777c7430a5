/// Reads STS `AssumeRoleWithWebIdentity` answers: the credentials of a success, the code and message of an
/// `ErrorResponse`. Bounded by ``XMLTagScanner/maximumDocumentBytes``.
enum STSResponse {
    /// The parts of an STS error that are safe to show.
    struct ErrorInfo: Sendable, Hashable {
        var code: String
        var message: String?
    }

    /// The credentials of a success document; nil when it is oversized, malformed, truncated or lacks a field.
    static func credentials(from body: [UInt8]) -> AWSCredentials? {
        guard let xml = XMLTagScanner(body),
              let response = xml.element("AssumeRoleWithWebIdentityResponse", in: xml.all),
              let result = xml.element("AssumeRoleWithWebIdentityResult", in: response),
              let credentials = xml.element("Credentials", in: result),
              let accessKeyID = xml.text("AccessKeyId", in: credentials), !accessKeyID.isEmpty,
              let secret = xml.text("SecretAccessKey", in: credentials), !secret.isEmpty,
              let token = xml.text("SessionToken", in: credentials), !token.isEmpty,
              let expirationText = xml.text("Expiration", in: credentials),
              let expiration = ISO8601Timestamp.parse(expirationText)
        else { return nil }
        return AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// The ARN of the assumed role session (`AssumedRoleUser/Arn`), for logs.
    static func assumedRoleARN(from body: [UInt8]) -> String? {
        guard let xml = XMLTagScanner(body),
              let result = xml.element("AssumeRoleWithWebIdentityResult", in: xml.all),
              let user = xml.element("AssumedRoleUser", in: result)
        else { return nil }
        return xml.text("Arn", in: user)
    }

    /// The code and message of an `ErrorResponse`; nil when the body is not one.
    static func error(from body: [UInt8]) -> ErrorInfo? {
        guard let xml = XMLTagScanner(body),
              let response = xml.element("ErrorResponse", in: xml.all),
              let error = xml.element("Error", in: response),
              let code = xml.text("Code", in: error), !code.isEmpty
        else { return nil }
        return ErrorInfo(code: code, message: xml.text("Message", in: error))
    }
}
