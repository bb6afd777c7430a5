import Crypto
import Foundation
import LLMeshKube
import NIOConcurrencyHelpers

/// Who presented a token: the service account of a sidecar's pod.
public struct SidecarIdentity: Sendable, Hashable {
    public var namespace: String
    public var serviceAccount: String
    /// The bound pod's name, when the token is a projected one.
    public var podName: String?
}

/// Why a token was refused: 401 for an invalid token, 403 for a valid one that may not have what it asked for.
public struct AuthenticationFailure: Error, Sendable, Hashable {
    public var status: Int
    public var message: String
}

/// Checks sidecar tokens with a TokenReview for the operator's audience and caches each answer briefly, so a
/// thousand sidecars polling do not become a thousand TokenReviews a second. Only hashes of tokens are kept.
public final class TokenAuthenticator: Sendable {
    /// The audience sidecar tokens must be issued for.
    public static let audience = OperatorAudience.value

    private struct Entry {
        var identity: SidecarIdentity?
        var failure: AuthenticationFailure?
        var expires: ContinuousClock.Instant
    }

    private let review: @Sendable (String, [String]) async throws -> TokenReviewResult
    private let cacheFor: Duration
    private let cache = NIOLockedValueBox<[String: Entry]>([:])

    public init(cacheFor: Duration = .seconds(30), review: @escaping @Sendable (String, [String]) async throws -> TokenReviewResult) {
        self.review = review
        self.cacheFor = cacheFor
    }

    /// A TokenReview through `client`.
    public convenience init(client: KubeClient, cacheFor: Duration = .seconds(30)) {
        self.init(cacheFor: cacheFor) { token, audiences in try await client.tokenReview(token: token, audiences: audiences) }
    }

    /// The identity behind the `Authorization: Bearer` value, or the failure to answer with.
    public func authenticate(authorization: String?) async -> Result<SidecarIdentity, AuthenticationFailure> {
        guard let authorization, authorization.lowercased().hasPrefix("bearer "), authorization.count > 7 else {
            return .failure(AuthenticationFailure(status: 401, message: "a bearer token for audience \(Self.audience) is required"))
        }
        let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let now = ContinuousClock.now
        if let entry = cache.withLockedValue({ $0[digest] }), entry.expires > now {
            if let identity = entry.identity { return .success(identity) }
            if let failure = entry.failure { return .failure(failure) }
        }
        let outcome: Result<SidecarIdentity, AuthenticationFailure>
        do {
            let result = try await review(token, [Self.audience])
            if result.authenticated {
                outcome = Self.judge(result)
            } else if try await review(token, []).authenticated {
                // A valid token, issued for another audience (the API server's own, for example).
                outcome = .failure(AuthenticationFailure(status: 403, message: "token is not issued for audience \(Self.audience)"))
            } else {
                outcome = Self.judge(result)
            }
        } catch {
            // The API server could not answer: not the caller's fault, and not cached.
            return .failure(AuthenticationFailure(status: 503, message: "token review unavailable: \(error)"))
        }
        cache.withLockedValue { cache in
            if cache.count > 10_000 { cache = cache.filter { $0.value.expires > now } }
            switch outcome {
            case .success(let identity): cache[digest] = Entry(identity: identity, failure: nil, expires: now + cacheFor)
            case .failure(let failure): cache[digest] = Entry(identity: nil, failure: failure, expires: now + .seconds(5))
            }
        }
        return outcome
    }

    static func judge(_ result: TokenReviewResult) -> Result<SidecarIdentity, AuthenticationFailure> {
        guard result.authenticated else {
            return .failure(AuthenticationFailure(status: 401, message: "token rejected" + (result.error.map { ": \($0)" } ?? "")))
        }
        guard result.audiences.contains(audience) else {
            return .failure(AuthenticationFailure(status: 403, message: "token is not issued for audience \(audience)"))
        }
        guard let username = result.username, username.hasPrefix("system:serviceaccount:") else {
            return .failure(AuthenticationFailure(status: 403, message: "only service-account tokens may fetch snapshots"))
        }
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return .failure(AuthenticationFailure(status: 403, message: "malformed service-account user \(username)")) }
        return .success(SidecarIdentity(namespace: String(parts[2]), serviceAccount: String(parts[3]), podName: result.extra["authentication.kubernetes.io/pod-name"]?.first))
    }
}
