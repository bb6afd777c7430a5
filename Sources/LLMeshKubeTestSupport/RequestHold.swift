import NIOConcurrencyHelpers

/// A list request the server keeps waiting until the test releases it, so that a test can change objects while a
/// client is between a watch and its relist, with no watch open to report the changes.
public final class RequestHold: Sendable {
    private struct State {
        var released = false
        var arrived = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Whether the held request has reached the server.
    public var hasArrived: Bool { state.withLockedValue { $0.arrived } }

    /// Lets the held request be answered.
    public func release() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.released = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Called by the server for the held request: returns once the test releases it.
    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLockedValue { state -> Bool in
                state.arrived = true
                if state.released { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
