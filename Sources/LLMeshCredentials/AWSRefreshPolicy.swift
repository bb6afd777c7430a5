import Foundation

/// When cached temporary credentials are refreshed, and how long STS sessions last. The defaults are botocore's:
/// refresh in the background from 15 minutes before expiry (advisory), make callers wait from 10 minutes before
/// (mandatory), and ask STS for one-hour sessions.
public struct AWSRefreshPolicy: Sendable, Hashable {
    /// Inside this window before expiry, cached credentials are still returned and one background refresh starts.
    public var advisory: Duration
    /// Inside this window before expiry (or past it), callers wait for fresh credentials.
    public var mandatory: Duration
    /// `DurationSeconds` asked of STS, clamped to STS's 900…43200 s.
    public var sessionDuration: Duration

    public init(advisory: Duration = .seconds(15 * 60), mandatory: Duration = .seconds(10 * 60), sessionDuration: Duration = .seconds(3600)) {
        self.advisory = advisory
        self.mandatory = mandatory
        self.sessionDuration = sessionDuration
    }

    /// botocore's windows and a one-hour session.
    public static let `default` = AWSRefreshPolicy()

    /// `DurationSeconds` for STS.
    var sessionDurationSeconds: Int {
        min(max(Int(sessionDuration.components.seconds), 900), 43_200)
    }

    /// The windows to apply to credentials that live `lifetime` in all: the configured ones, except that a window as
    /// long as the whole lifetime (the default 15 minutes against a 15-minute session) shrinks to half (advisory) and a
    /// quarter (mandatory) of it, so such credentials are not refreshed on every call.
    func windows(lifetime: TimeInterval?) -> (advisory: TimeInterval, mandatory: TimeInterval) {
        let advisorySeconds = Self.seconds(advisory)
        let mandatorySeconds = min(Self.seconds(mandatory), advisorySeconds)
        guard let lifetime, lifetime > 0 else { return (advisorySeconds, mandatorySeconds) }
        guard advisorySeconds < lifetime else { return (lifetime / 2, min(mandatorySeconds, lifetime / 4)) }
        return (advisorySeconds, mandatorySeconds)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
