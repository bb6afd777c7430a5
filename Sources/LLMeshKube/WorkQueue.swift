/// A work queue as controllers use it: keys are de-duplicated while waiting, a key being processed is never handed
/// out twice at once (a change during processing queues it again afterwards), and failures are retried with
/// per-key exponential backoff (client-go's default: 5 ms doubling to 1000 s).
public actor WorkQueue<Key: Hashable & Sendable> {
    private var order: [Key] = []
    private var head = 0
    private var queued: Set<Key> = []
    private var processing: Set<Key> = []
    private var dirtyWhileProcessing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var delayed: [Key: Task<Void, Never>] = [:]
    private var isShutDown = false
    public let baseDelay: Duration
    public let maximumDelay: Duration

    public init(baseDelay: Duration = .milliseconds(5), maximumDelay: Duration = .seconds(1000)) {
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// Keys waiting to be processed.
    public var depth: Int { order.count - head }

    /// Queues `key` unless it is queued already; a key in processing is queued again when it is done.
    public func add(_ key: Key) {
        guard !isShutDown else { return }
        if processing.contains(key) {
            dirtyWhileProcessing.insert(key)
            return
        }
        guard queued.insert(key).inserted else { return }
        if !waiters.isEmpty {
            queued.remove(key)
            processing.insert(key)
            waiters.removeFirst().resume(returning: key)
            return
        }
        order.append(key)
    }

    /// Queues `key` after `delay`. A later call for the same key replaces the pending one.
    public func add(_ key: Key, after delay: Duration) {
        guard !isShutDown else { return }
        delayed[key]?.cancel()
        // An unstructured task is the timer here: it holds nothing but the key and is cancelled on shutdown.
        delayed[key] = Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            await self?.fireDelayed(key)
        }
    }

    private func fireDelayed(_ key: Key) {
        delayed[key] = nil
        add(key)
    }

    /// Queues `key` after its backoff, which doubles with each failure until ``forget(_:)``.
    public func addRateLimited(_ key: Key) {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        let exponent = min(count, 40)
        let delay = min(baseDelay * Double(1 << UInt64(min(exponent, 62))), maximumDelay)
        add(key, after: delay)
    }

    /// Clears the failure count of `key` after a success.
    public func forget(_ key: Key) {
        failures[key] = nil
    }

    /// Failures recorded for `key` since the last ``forget(_:)``.
    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// The next key to process; `nil` once the queue is shut down. Call ``done(_:)`` after processing it.
    public func next() async -> Key? {
        if isShutDown { return nil }
        if head < order.count {
            let key = order[head]
            head += 1
            if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            queued.remove(key)
            processing.insert(key)
            return key
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks `key` processed; queues it again if it changed meanwhile.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirtyWhileProcessing.remove(key) != nil { add(key) }
    }

    /// Stops handing out keys; waiting consumers get `nil`.
    public func shutDown() {
        isShutDown = true
        for task in delayed.values { task.cancel() }
        delayed.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }
}
