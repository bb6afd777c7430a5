import AsyncHTTPClient
import Foundation
import NIOCore

/// Web identity (IRSA) as resolved from the configuration and the environment.
struct WebIdentitySettings: Sendable, Hashable {
    var roleARN: String
    var tokenFile: String
    /// nil: a fresh `llmesh-<unix-millis>` per fetch (IRSA sets no `AWS_ROLE_SESSION_NAME`).
    var sessionName: String?
    /// The STS endpoint URL, already validated.
    var endpoint: String
}

/// `sts:AssumeRoleWithWebIdentity`: an unsigned form POST carrying the projected token, which is re-read from its file
/// on every attempt because the kubelet rotates it.
struct WebIdentityCredentialProvider: Sendable {
    static let source = "web-identity"
    /// Per attempt.
    static let requestTimeout: TimeAmount = .seconds(5)
    /// Codes worth retrying because the condition passes: the identity provider or STS is briefly unwell or busy.
    static let transientCodes: Set<String> = [
        "IDPCommunicationError", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "PriorRequestNotComplete",
    ]
    /// Codes worth retrying with the token file read again: it may be mid-rotation (aws-sdk-go-v2, aws-sdk-swift).
    static let tokenCodes: Set<String> = ["InvalidIdentityToken", "ExpiredTokenException"]

    let settings: WebIdentitySettings

    func fetch(_ context: FetchContext) async throws(AWSCredentialError) -> AWSCredentials {
        let sessionName = settings.sessionName ?? Self.generatedSessionName(now: context.now())
        let durationSeconds = context.refresh.sessionDurationSeconds
        return try await context.retry.run { _ in
            await attempt(sessionName: sessionName, durationSeconds: durationSeconds, context: context)
        }
    }

    func attempt(sessionName: String, durationSeconds: Int, context: FetchContext) async -> FetchAttempt {
        let token: String
        do {
            token = try TokenFile.read(settings.tokenFile, source: Self.source)
        } catch {
            return .final(error)
        }
        var request = HTTPClientRequest(url: Self.requestURL(settings.endpoint))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded; charset=utf-8")
        request.headers.add(name: "user-agent", value: "llmesh")
        let form = Self.formBody(roleARN: settings.roleARN, sessionName: sessionName, token: token, durationSeconds: durationSeconds)
        request.body = .bytes(ByteBuffer(string: form))
        let status: Int
        let body: [UInt8]
        do {
            let response = try await context.httpClient.execute(request, timeout: context.requestTimeout ?? Self.requestTimeout)
            status = Int(response.status.code)
            body = Array(try await response.body.collect(upTo: XMLTagScanner.maximumDocumentBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            return .final(AWSCredentialError(kind: .unavailable, source: Self.source, message: "the STS answer from \(host) is larger than 1 MiB"))
        } catch {
            let reason = SafeText.sanitize(String(describing: error), hiding: [token])
            return .retryable(AWSCredentialError(kind: .unavailable, source: Self.source, message: "cannot reach STS at \(host): \(reason)"))
        }
        return Self.outcome(status: status, body: body, host: host, hiding: [token])
    }

    var host: String { URL(string: settings.endpoint)?.host ?? settings.endpoint }

    /// Classifies an STS answer: credentials, a retryable error, or a final one.
    static func outcome(status: Int, body: [UInt8], host: String, hiding secrets: [String]) -> FetchAttempt {
        if (200..<300).contains(status) {
            guard let credentials = STSResponse.credentials(from: body) else {
                return .final(AWSCredentialError(kind: .unavailable, source: source, message: "STS at \(host) answered HTTP \(status) with a malformed, truncated or oversized document"))
            }
            return .success(credentials)
        }
        let info = STSResponse.error(from: body)
        let detail = info?.message.map { ": " + SafeText.sanitize($0, hiding: secrets) } ?? ""
        let message = "STS at \(host) answered HTTP \(status)\(detail)"
        if let code = info?.code {
            if transientCodes.contains(code) { return .retryable(AWSCredentialError(kind: .unavailable, source: source, code: code, message: message)) }
            if tokenCodes.contains(code) { return .retryable(AWSCredentialError(kind: .rejected, source: source, code: code, message: message)) }
        }
        let code = info.map { SafeText.sanitize($0.code, hiding: secrets) }
        if status >= 500 || status == 429 { return .retryable(AWSCredentialError(kind: .unavailable, source: source, code: code, message: message)) }
        return .final(AWSCredentialError(kind: .rejected, source: source, code: code, message: message))
    }

    /// The form body of the call, every value percent-encoded but for `A-Z a-z 0-9 - . _ ~`, so a token's `+`, `/`
    /// and `=` travel as `%2B`, `%2F` and `%3D`.
    static func formBody(roleARN: String, sessionName: String, token: String, durationSeconds: Int) -> String {
        [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", roleARN),
            ("RoleSessionName", sessionName),
            ("WebIdentityToken", token),
            ("DurationSeconds", String(durationSeconds)),
        ]
        .map { "\($0.0)=\(SigV4Signer.percentEncode($0.1, keepSlash: false))" }
        .joined(separator: "&")
    }

    /// STS posts to `/`; an endpoint given without a path gets one.
    static func requestURL(_ endpoint: String) -> String {
        guard let url = URL(string: endpoint), url.path.isEmpty else { return endpoint }
        return endpoint + "/"
    }

    /// `llmesh-<unix-millis>`, which matches `[\w+=,.@-]{2,64}`.
    static func generatedSessionName(now: Date) -> String {
        "llmesh-\(Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))"
    }

    /// Whether `name` is a valid `RoleSessionName`: 2 to 64 characters of `[A-Za-z0-9_+=,.@-]`.
    static func isValidSessionName(_ name: String) -> Bool {
        let allowed = Set("+=,.@-_".utf8)
        guard (2...64).contains(name.utf8.count) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || allowed.contains(byte)
        }
    }
}
