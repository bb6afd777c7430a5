import Foundation
import LLMeshModel

/// A host and port to listen on.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Process-level settings of a sidecar: where it listens, its limits, and the defaults resources can override.
public struct SidecarSettings: Sendable {
    /// The standalone YAML file of llmesh resources (unused in cluster mode).
    public var configPath: String
    /// App traffic listener.
    public var listen = ListenAddress(host: "127.0.0.1", port: 15080)
    /// Admin listener (`/healthz`, `/readyz`, `/metrics`, `/config_dump`).
    public var adminListen = ListenAddress(host: "127.0.0.1", port: 15090)
    /// Largest request body accepted; larger ones get 413.
    public var maximumRequestBodyBytes = 10 * 1024 * 1024
    /// Largest non-streamed upstream body buffered to read its usage; larger ones get 502.
    public var maximumResponseBodyBytes = 64 * 1024 * 1024
    /// How long in-flight requests may run after SIGTERM.
    public var shutdownGrace = TimeSpan.seconds(25)
    /// How often the config file and API-key files are checked for changes.
    public var reloadInterval = TimeSpan(milliseconds: 1000)
    /// Upstream timeouts used where a provider or route sets none.
    public var defaultTimeouts = ProviderTimeouts(connect: .seconds(10), request: .seconds(600), streamIdle: .seconds(120))
    /// Whether to write one JSON access-log line per request to standard output.
    public var accessLog = true
    /// Event-loop threads for both listeners and the upstream pool. One keeps every request on one thread, with no
    /// cross-thread hand-offs, which suits a sidecar's fraction of a core; raise it for a sidecar with whole cores.
    public var eventLoopThreads = 1
    /// The pod this sidecar serves, for policies with a `workloadSelector`.
    public var workload = WorkloadIdentity()
    /// `host:port` of the Redis-compatible store for `scope: Global` limits and budgets; `nil` keeps all in memory.
    public var globalStore: ListenAddress?
    /// How long a connect or command to the global store may take before the limit's `failureMode` applies. A
    /// store on the node or in the cluster answers in well under a millisecond; the default allows for a busy one.
    public var globalStoreTimeout = TimeSpan(milliseconds: 250)
    /// Cluster mode: policy comes from the operator's snapshot service instead of `configPath`.
    public var operatorSubscription: OperatorSubscription?
    /// Loopback HTTPS app listener (Bedrock bearer mode); `nil` leaves it off.
    public var tlsListen: ListenAddress?
    /// Where the HTTPS listener's `ca.crt` and `ca-bundle.crt` are written.
    public var tlsDirectory = "/var/run/llmesh/tls"
    /// When AWS credentials are refreshed.
    public var awsRefresh = AWSRefreshSettings()
    /// Identifies this sidecar process in usage batches: the pod name and a random suffix, new at every start.
    public var sidecarID = "\(ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName)-\(UInt32.random(in: 0...UInt32.max))"

    public init(configPath: String) {
        self.configPath = configPath
    }
}

/// When the sidecar refreshes temporary AWS credentials: botocore's windows by default.
public struct AWSRefreshSettings: Sendable, Hashable {
    /// `DurationSeconds` asked of STS.
    public var sessionDuration: TimeSpan
    /// Within this much of expiry, one background refresh starts while the old credentials are still used.
    public var advisory: TimeSpan
    /// Within this much of expiry, requests wait for fresh credentials.
    public var mandatory: TimeSpan

    public init(sessionDuration: TimeSpan = .seconds(3600), advisory: TimeSpan = .seconds(900), mandatory: TimeSpan = .seconds(600)) {
        self.sessionDuration = sessionDuration
        self.advisory = advisory
        self.mandatory = mandatory
    }
}
