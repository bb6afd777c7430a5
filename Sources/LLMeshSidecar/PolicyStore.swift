import NIOConcurrencyHelpers

/// Holds the policy in force and swaps it atomically.
public final class PolicyStore: Sendable {
    private let state: NIOLockedValueBox<RuntimePolicy?>

    public init(initial: RuntimePolicy? = nil) {
        self.state = NIOLockedValueBox(initial)
    }

    /// The policy in force, if one was ever loaded.
    public var current: RuntimePolicy? { state.withLockedValue { $0 } }

    /// Replaces the policy; in-flight requests keep the one they read.
    public func apply(_ policy: RuntimePolicy) {
        state.withLockedValue { $0 = policy }
    }
}
