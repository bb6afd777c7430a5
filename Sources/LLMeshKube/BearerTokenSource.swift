import Foundation
import NIOConcurrencyHelpers

/// A bearer token read from a file and re-read at most every `refreshInterval`, as client-go's cached file token
/// source does: projected service-account tokens rotate, so the process must never keep one for its lifetime.
public final class BearerTokenSource: Sendable {
    private struct Cached {
        var token: String
        var readAt: ContinuousClock.Instant
    }

    public let path: String
    public let refreshInterval: Duration
    private let cache = NIOLockedValueBox<Cached?>(nil)
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the clock; tests pass their own.
    public init(path: String, refreshInterval: Duration = .seconds(60), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.path = path
        self.refreshInterval = refreshInterval
        self.now = now
    }

    /// The current token; the file is read when the cached copy is older than the refresh interval.
    public func token() throws(KubeConfigError) -> String {
        let now = self.now()
        if let cached = cache.withLockedValue({ $0 }), cached.readAt.duration(to: now) < refreshInterval { return cached.token }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024,
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
        else {
            if let cached = cache.withLockedValue({ $0 }) { return cached.token }
            throw KubeConfigError("cannot read a token from \(path)")
        }
        cache.withLockedValue { $0 = Cached(token: text, readAt: now) }
        return text
    }
}
