import LLMeshModel
import NIOConcurrencyHelpers

/// Identifies a backend across routes and reloads: the provider and the model sent to it.
public struct BackendKey: Hashable, Sendable, CustomStringConvertible {
    public var provider: String
    public var model: String

    public var description: String { "\(provider)/\(model)" }
}

/// Passive health, latency and load of every backend, shared by all routes that use it.
///
/// Outlier detection follows Envoy's model: a backend is ejected after `consecutiveFailures` failures in a row,
/// or when failures reach `errorRatePercent` of at least `minimumRequests` requests within `interval`. It stays out
/// for `baseEjectionTime` × the number of ejections in a row (capped at `maxEjectionTime`), then lets exactly one
/// probe request through (half-open): success readmits it, failure ejects it again for longer.
public final class BackendHealth: Sendable {
    /// A backend's state as `/config_dump` shows it.
    public struct Snapshot: Sendable, Encodable {
        public var backend: String
        public var ejected: Bool
        public var ejectedForSeconds: Double?
        public var ejections: Int
        public var consecutiveFailures: Int
        public var inFlight: Int
        public var firstByteEWMAMilliseconds: Double?
    }

    struct State {
        var consecutiveFailures = 0
        var windowStart: ContinuousClock.Instant
        var windowRequests = 0
        var windowFailures = 0
        var ejectedUntil: ContinuousClock.Instant?
        var ejectionsInARow = 0
        var probeInFlight = false
        var inFlight = 0
        var firstByteEWMA: Double?
    }

    /// The answer to "may this backend be tried now?".
    public enum Admission: Equatable, Sendable {
        case healthy
        /// Ejected, but its cool-down is over and this request is the one probe.
        case probe
        case ejected
    }

    private let states = NIOLockedValueBox<[BackendKey: State]>([:])
    private let clock: @Sendable () -> ContinuousClock.Instant
    /// Weight of a new sample in the time-to-first-byte moving average.
    static let ewmaWeight = 0.3

    public init(clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.clock = clock
    }

    /// Whether `key` is currently ejected (without claiming a probe).
    public func isEjected(_ key: BackendKey) -> Bool {
        let now = clock()
        return states.withLockedValue { states in
            guard let until = states[key]?.ejectedUntil else { return false }
            return until > now || states[key]?.probeInFlight == true
        }
    }

    /// Decides whether a request may go to `key`, claiming the half-open probe when the cool-down is over.
    public func admit(_ key: BackendKey) -> Admission {
        let now = clock()
        return states.withLockedValue { states in
            guard var state = states[key], let until = state.ejectedUntil else { return .healthy }
            if until > now || state.probeInFlight { return .ejected }
            state.probeInFlight = true
            states[key] = state
            return .probe
        }
    }

    /// Marks the start of a request to `key`.
    public func begin(_ key: BackendKey) {
        let now = clock()
        states.withLockedValue { states in
            states[key, default: State(windowStart: now)].inFlight += 1
        }
    }

    /// Records the end of a request to `key`; `failed` counts towards ejection. Returns whether this ejected it.
    @discardableResult
    public func finish(_ key: BackendKey, failed: Bool, firstByte: Duration?, detection: OutlierDetection) -> Bool {
        let now = clock()
        return states.withLockedValue { states in
            var state = states[key] ?? State(windowStart: now)
            state.inFlight = max(0, state.inFlight - 1)
            if let firstByte {
                let sample = Double(firstByte.components.seconds) * 1000 + Double(firstByte.components.attoseconds) / 1e15
                state.firstByteEWMA = state.firstByteEWMA.map { $0 + Self.ewmaWeight * (sample - $0) } ?? sample
            }
            if now - state.windowStart > detection.interval.duration {
                state.windowStart = now
                state.windowRequests = 0
                state.windowFailures = 0
            }
            state.windowRequests += 1
            var ejectedNow = false
            let wasProbe = state.probeInFlight
            state.probeInFlight = false
            if failed {
                state.consecutiveFailures += 1
                state.windowFailures += 1
                let tooManyInARow = detection.consecutiveFailures > 0 && state.consecutiveFailures >= detection.consecutiveFailures
                let tooHighRate = detection.errorRatePercent > 0 && state.windowRequests >= detection.minimumRequests
                    && state.windowFailures * 100 >= detection.errorRatePercent * state.windowRequests
                if wasProbe || ((tooManyInARow || tooHighRate) && state.ejectedUntil.map({ $0 <= now }) ?? true) {
                    state.ejectionsInARow += 1
                    let length = min(detection.baseEjectionTime.milliseconds * Int64(state.ejectionsInARow), detection.maxEjectionTime.milliseconds)
                    state.ejectedUntil = now + .milliseconds(length)
                    state.consecutiveFailures = 0
                    state.windowRequests = 0
                    state.windowFailures = 0
                    ejectedNow = true
                }
            } else {
                state.consecutiveFailures = 0
                if wasProbe || state.ejectedUntil.map({ $0 <= now }) == true {
                    state.ejectedUntil = nil
                    state.ejectionsInARow = 0
                }
            }
            states[key] = state
            return ejectedNow
        }
    }

    /// Requests in flight to `key` from this sidecar.
    public func inFlight(_ key: BackendKey) -> Int { states.withLockedValue { $0[key]?.inFlight ?? 0 } }

    /// Moving average of time to first byte, in milliseconds, if any request finished.
    public func firstByteEWMA(_ key: BackendKey) -> Double? { states.withLockedValue { $0[key]?.firstByteEWMA } }

    /// Every known backend, for `/config_dump` and metrics.
    public func snapshot() -> [Snapshot] {
        let now = clock()
        return states.withLockedValue { states in
            states.map { key, state in
                let remaining = state.ejectedUntil.map { $0 - now }
                let ejected = (remaining.map { $0 > .zero } ?? false) || state.probeInFlight
                return Snapshot(
                    backend: key.description,
                    ejected: ejected,
                    ejectedForSeconds: remaining.flatMap { $0 > .zero ? Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 : nil },
                    ejections: state.ejectionsInARow,
                    consecutiveFailures: state.consecutiveFailures,
                    inFlight: state.inFlight,
                    firstByteEWMAMilliseconds: state.firstByteEWMA
                )
            }.sorted { $0.backend < $1.backend }
        }
    }
}

/// Caps retries at a share of a route's traffic, so that retries cannot multiply load during an outage.
///
/// Over a sliding 10-second window, a route may retry `max(3, requests × budgetPercent / 100)` times.
public final class RetryBudget: Sendable {
    struct Window {
        var start: ContinuousClock.Instant
        var requests = 0
        var retries = 0
    }

    private let windows = NIOLockedValueBox<[String: Window]>([:])
    static let windowLength = Duration.seconds(10)
    static let minimumRetries = 3

    public init() {}

    private func current(_ windows: inout [String: Window], route: String, now: ContinuousClock.Instant) -> Window {
        var window = windows[route] ?? Window(start: now)
        if now - window.start > Self.windowLength { window = Window(start: now) }
        return window
    }

    /// Counts a request of `route`.
    public func recordRequest(route: String) {
        let now = ContinuousClock.now
        windows.withLockedValue { windows in
            var window = current(&windows, route: route, now: now)
            window.requests += 1
            windows[route] = window
        }
    }

    /// Takes one retry from the budget if there is one left.
    public func tryRetry(route: String, budgetPercent: Int) -> Bool {
        let now = ContinuousClock.now
        return windows.withLockedValue { windows in
            var window = current(&windows, route: route, now: now)
            let allowed = max(Self.minimumRetries, window.requests * budgetPercent / 100)
            guard window.retries < allowed else { return false }
            window.retries += 1
            windows[route] = window
            return true
        }
    }
}
