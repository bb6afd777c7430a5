/// What one attempt at fetching credentials came to.
enum FetchAttempt: Sendable {
    case success(AWSCredentials)
    /// Worth another attempt: throttling, 5xx, connection errors, and the STS codes the SDKs retry.
    case retryable(AWSCredentialError)
    /// Final at once: AccessDenied and other refusals, malformed answers, bad local configuration.
    case final(AWSCredentialError)
}

/// Attempts with jittered exponential backoff, as the AWS SDKs retry STS: up to 3 attempts, waiting
/// `base × 2^n × [0.5, 1.5)` between them (about 100 ms, then 200 ms).
struct RetryPolicy: Sendable, Hashable {
    var attempts: Int
    var baseDelay: Duration

    init(attempts: Int = 3, baseDelay: Duration = .milliseconds(100)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
    }

    static let `default` = RetryPolicy()

    /// The pause after the zero-based attempt `attempt`.
    func delay(after attempt: Int) -> Duration {
        baseDelay * (Double(1 << min(attempt, 10)) * Double.random(in: 0.5..<1.5))
    }

    /// Runs `attempt` (given its zero-based number) until it succeeds, fails finally, or the attempts run out; the
    /// last error is thrown. A cancelled task stops waiting and throws the last error.
    func run(_ attempt: (Int) async -> FetchAttempt) async throws(AWSCredentialError) -> AWSCredentials {
        var number = 0
        while true {
            switch await attempt(number) {
            case .success(let credentials):
                return credentials
            case .final(let error):
                throw error
            case .retryable(let failure):
                number += 1
                guard number < attempts else { throw failure }
                do {
                    try await Task.sleep(for: delay(after: number - 1))
                } catch {
                    throw failure
                }
            }
        }
    }
}
