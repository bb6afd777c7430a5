import Prometheus

/// The operator's Prometheus metrics: reconciles, queue, informers, leadership and status writes.
public final class OperatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let reconcileSuccesses: Counter
    let reconcileFailures: Counter
    let reconcileDuration: DurationHistogram
    let queueDepth: Gauge
    let leader: Gauge
    let statusWrites: Counter
    let statusConflicts: Counter
    let namespaces: Gauge
    let connectedSidecars: Gauge
    let pushLatency: DurationHistogram
    let usageBatches: Counter
    let usageLag: Gauge

    public init() {
        let reconciles = "llmesh_operator_reconciles_total"
        reconcileSuccesses = registry.makeCounter(descriptor: .init(metricName: reconciles, unitName: "", helpText: "Namespace reconciles by result."), labels: [("result", "success")])
        reconcileFailures = registry.makeCounter(descriptor: .init(metricName: reconciles, unitName: "", helpText: "Namespace reconciles by result."), labels: [("result", "error")])
        reconcileDuration = registry.makeDurationHistogram(
            descriptor: .init(metricName: "llmesh_operator_reconcile_duration_seconds", unitName: "", helpText: "Time to compile a namespace and write its statuses."),
            buckets: [.microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]
        )
        queueDepth = registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_queue_depth", unitName: "", helpText: "Namespaces waiting to be reconciled."))
        leader = registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_leader", unitName: "", helpText: "1 while this replica holds the leader lease."))
        statusWrites = registry.makeCounter(descriptor: .init(metricName: "llmesh_operator_status_writes_total", unitName: "", helpText: "Status subresource updates written."))
        statusConflicts = registry.makeCounter(descriptor: .init(metricName: "llmesh_operator_status_conflicts_total", unitName: "", helpText: "Status updates refused with 409 Conflict (retried)."))
        namespaces = registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_snapshot_namespaces", unitName: "", helpText: "Namespaces with a compiled policy snapshot."))
        connectedSidecars = registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_connected_sidecars", unitName: "", helpText: "Sidecar long-polls held open by this replica."))
        pushLatency = registry.makeDurationHistogram(
            descriptor: .init(metricName: "llmesh_operator_push_latency_seconds", unitName: "", helpText: "From a snapshot change to its answer to a waiting sidecar."),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        )
        usageBatches = registry.makeCounter(descriptor: .init(metricName: "llmesh_operator_usage_batches_total", unitName: "", helpText: "Usage batches written to status."))
        usageLag = registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_usage_lag_seconds", unitName: "", helpText: "Age of the oldest usage batch at the last write."))
        reconcileFailures.increment(by: Int64(0))
    }

    /// Gauges of each informer's cache size.
    func cachedObjects(kind: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_cached_objects", unitName: "", helpText: "Objects in the informer caches."), labels: [("kind", kind)])
    }

    /// Records the time from a snapshot change to its delivery to a waiting sidecar.
    public func recordPushLatency(_ latency: Duration) {
        pushLatency.record(latency)
    }

    /// The snapshot version served for `namespace`.
    func snapshotVersion(namespace: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: "llmesh_operator_snapshot_version", unitName: "", helpText: "Policy snapshot version per namespace."), labels: [("namespace", namespace)])
    }

    /// Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
