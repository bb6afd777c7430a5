/// Exponential backoff with full jitter, reset after a healthy period (client-go's reflector defaults: 800 ms
/// doubling to 30 s, reset after 2 minutes without failure).
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var resetAfter: Duration
    private var current: Duration
    private var lastFailure: ContinuousClock.Instant?

    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), resetAfter: Duration = .seconds(120)) {
        self.initial = initial
        self.maximum = maximum
        self.resetAfter = resetAfter
        self.current = initial
    }

    /// The next wait: a random share of the current step (full jitter), then the step doubles up to `maximum`.
    public mutating func next(now: ContinuousClock.Instant = .now) -> Duration {
        if let lastFailure, lastFailure.duration(to: now) > resetAfter { current = initial }
        lastFailure = now
        let step = current
        current = min(current * 2, maximum)
        let share = Double.random(in: 0.5...1.0)
        return step * share
    }

    /// Forgets earlier failures.
    public mutating func reset() {
        current = initial
        lastFailure = nil
    }
}
