import AsyncHTTPClient
import Foundation
import NIOCore

/// The container credential provider as resolved from the environment: EKS Pod Identity, and ECS task roles (a
/// relative URI on the ECS agent, or a full URI).
struct ContainerSettings: Sendable {
    /// Where the `Authorization` header comes from.
    enum Authorization: Sendable {
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read on every request (the kubelet rotates it).
        case file(String)
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
        case value(String)
        /// Neither is set: no header, as botocore does.
        case none
    }

    /// The full URI (a relative one already resolved against the ECS agent), checked by ``ContainerEndpointPolicy``.
    var fullURI: String
    var authorization: Authorization
}

/// `GET FULL_URI` with the token as `Authorization`, answered with
/// `{"AccessKeyId","SecretAccessKey","Token","Expiration"}` (note `Token`, not `SessionToken`). 2 s per attempt.
struct ContainerCredentialProvider: Sendable {
    static let source = "pod-identity"
    static let requestTimeout: TimeAmount = .seconds(2)
    /// The agent's answers are a few hundred bytes.
    static let maximumBodyBytes = 64 * 1024

    let settings: ContainerSettings

    func fetch(_ context: FetchContext) async throws(AWSCredentialError) -> AWSCredentials {
        try await context.retry.run { _ in await attempt(context: context) }
    }

    func attempt(context: FetchContext) async -> FetchAttempt {
        let token: String?
        do {
            token = try authorizationValue()
        } catch {
            return .final(error)
        }
        var request = HTTPClientRequest(url: settings.fullURI)
        request.method = .GET
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "llmesh")
        if let token { request.headers.add(name: "authorization", value: token) }
        let secrets = token.map { [$0] } ?? []
        let status: Int
        let body: [UInt8]
        do {
            let response = try await context.httpClient.execute(request, timeout: context.requestTimeout ?? Self.requestTimeout)
            status = Int(response.status.code)
            body = Array(try await response.body.collect(upTo: Self.maximumBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            return .final(AWSCredentialError(kind: .unavailable, source: Self.source, message: "the answer of \(host) is larger than \(Self.maximumBodyBytes) bytes"))
        } catch {
            let reason = SafeText.sanitize(String(describing: error), hiding: secrets)
            return .retryable(AWSCredentialError(kind: .unavailable, source: Self.source, message: "cannot reach the credential agent at \(host): \(reason)"))
        }
        return Self.outcome(status: status, body: body, host: host, hiding: secrets)
    }

    var host: String { URL(string: settings.fullURI)?.host ?? "the credential agent" }

    /// The `Authorization` header value: the token, trimmed, refused when it holds CR or LF (header injection).
    func authorizationValue() throws(AWSCredentialError) -> String? {
        let token: String
        let origin: String
        switch settings.authorization {
        case .none:
            return nil
        case .file(let path):
            token = try TokenFile.read(path, source: Self.source)
            origin = "the token file \(path)"
        case .value(let value):
            token = value.trimmingCharacters(in: .whitespacesAndNewlines)
            origin = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
        }
        guard !token.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else {
            throw AWSCredentialError(kind: .unavailable, source: Self.source, message: "\(origin) holds a line break, which cannot go into an HTTP header")
        }
        return token
    }

    /// The agent's JSON answer.
    struct Answer: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String?
        var Expiration: String
    }

    /// The error object some agents send: `{"code": …, "message": …}`.
    struct ErrorAnswer: Decodable {
        var code: String?
        var message: String?
    }

    /// Classifies an agent answer: credentials, a retryable error (429, 5xx) or a final one (other statuses, bad JSON).
    static func outcome(status: Int, body: [UInt8], host: String, hiding secrets: [String]) -> FetchAttempt {
        if status == 200 {
            guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)),
                  !answer.AccessKeyId.isEmpty, !answer.SecretAccessKey.isEmpty,
                  let expiration = ISO8601Timestamp.parse(answer.Expiration)
            else {
                return .final(AWSCredentialError(kind: .unavailable, source: source, message: "the credential agent at \(host) answered HTTP 200 without valid credentials JSON"))
            }
            let token = answer.Token.flatMap { $0.isEmpty ? nil : $0 }
            return .success(AWSCredentials(accessKeyID: answer.AccessKeyId, secretAccessKey: answer.SecretAccessKey, sessionToken: token, expiration: expiration))
        }
        let info = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body))
        let code = info?.code.map { SafeText.sanitize($0, hiding: secrets) }
        let detail = info?.message.map { ": " + SafeText.sanitize($0, hiding: secrets) } ?? ""
        let error = AWSCredentialError(kind: status >= 500 || status == 429 ? .unavailable : .rejected, source: source, code: code, message: "the credential agent at \(host) answered HTTP \(status)\(detail)")
        return status >= 500 || status == 429 ? .retryable(error) : .final(error)
    }
}
