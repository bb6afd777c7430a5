import Foundation

/// The cache of a resolver as a plain value, so its rules test without I/O: given the clock, should a caller use
/// the cached credentials, use them and start a background refresh, or wait for fresh ones?
struct CredentialCache: Sendable {
    /// What a caller does.
    enum Decision: Sendable, Equatable {
        /// The cached credentials are good.
        case use(AWSCredentials)
        /// Good for now, but inside the advisory window: use them and refresh in the background.
        case useAndRefresh(AWSCredentials)
        /// None, invalidated, inside the mandatory window or expired: wait for a fetch.
        case wait
    }

    /// After a failed background refresh, the next one waits this long (the mandatory window does not wait).
    static let backgroundRetryInterval: TimeInterval = 30

    private(set) var credentials: AWSCredentials?
    /// When ``credentials`` were fetched, to size the windows to their lifetime.
    private(set) var fetchedAt: Date?
    private(set) var invalidated = false
    private(set) var refreshes = 0
    private(set) var lastError: String?
    private(set) var backgroundNotBefore: Date?

    /// - Parameter refreshing: whether a fetch is already under way (then no second one starts).
    func decide(now: Date, policy: AWSRefreshPolicy, refreshing: Bool) -> Decision {
        guard let credentials, !invalidated else { return .wait }
        guard let expiration = credentials.expiration else { return .use(credentials) }
        let windows = policy.windows(lifetime: fetchedAt.map { expiration.timeIntervalSince($0) })
        let remaining = expiration.timeIntervalSince(now)
        if remaining > windows.advisory { return .use(credentials) }
        if remaining > windows.mandatory {
            if refreshing { return .use(credentials) }
            if let backgroundNotBefore, now < backgroundNotBefore { return .use(credentials) }
            return .useAndRefresh(credentials)
        }
        return .wait
    }

    mutating func succeeded(_ fresh: AWSCredentials, at now: Date) {
        credentials = fresh
        fetchedAt = now
        invalidated = false
        refreshes += 1
        lastError = nil
        backgroundNotBefore = nil
    }

    mutating func failed(_ error: AWSCredentialError, at now: Date) {
        lastError = error.description
        backgroundNotBefore = now.addingTimeInterval(Self.backgroundRetryInterval)
    }

    /// The upstream rejected the credentials: the next caller waits for fresh ones.
    mutating func invalidate() {
        invalidated = true
    }
}
