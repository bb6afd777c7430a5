import ArgumentParser
import Foundation
import LLMeshModel
import LLMeshSidecar
import Logging

/// The `llmesh` command: one binary for the sidecar and its tools.
@main
struct LLMeshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmesh",
        abstract: "An LLM-aware sidecar mesh: policy, credentials and accounting for every LLM call.",
        version: LLMeshVersion.current,
        subcommands: [SidecarCommand.self, OperatorCommand.self, CheckCommand.self, CRDsCommand.self, WaitReadyCommand.self, VersionCommand.self]
    )
}

enum LLMeshVersion {
    static let current = "0.1.0"
}

struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar",
        abstract: "Serve LLM traffic on loopback with the policy in a YAML file, reloading it when it changes."
    )

    @Option(name: .long, help: "YAML file of LLMProvider, LLMRoute, VirtualKey and LLMPolicy resources (standalone mode).")
    var config: String?

    @Option(name: .customLong("operator-url"), help: "Cluster mode: the operator's snapshot service, for example https://llmesh-operator.llmesh-system.svc:8443.")
    var operatorURL: String?

    @Option(name: .customLong("operator-token-file"), help: "Cluster mode: projected service-account token for the operator (audience llmesh.io/operator).")
    var operatorTokenFile = "/var/run/secrets/llmesh.io/operator/token"

    @Option(name: .customLong("operator-ca-file"), help: "Cluster mode: PEM of the CA of the operator's certificate (default: system roots).")
    var operatorCAFile: String?

    @Option(name: .customLong("operator-backoff-max"), help: "Cluster mode: longest wait between reconnection attempts (full jitter).")
    var operatorBackoffMax = "30s"

    @Option(name: .customLong("snapshot-cache"), help: "Cluster mode: directory for the last good snapshot (an emptyDir), served at start when the operator is down.")
    var snapshotCache: String?

    @Option(name: .long, help: "App listener, host:port.")
    var listen = "127.0.0.1:15080"

    @Option(name: .customLong("admin-listen"), help: "Admin listener (/healthz, /readyz, /metrics, /config_dump), host:port.")
    var adminListen = "127.0.0.1:15090"

    @Option(name: .customLong("max-request-body-bytes"), help: "Largest request body accepted.")
    var maxRequestBodyBytes = 10 * 1024 * 1024

    @Option(name: .customLong("max-response-body-bytes"), help: "Largest non-streamed upstream answer buffered.")
    var maxResponseBodyBytes = 64 * 1024 * 1024

    @Option(name: .customLong("shutdown-grace"), help: "How long in-flight requests may run after SIGTERM.")
    var shutdownGrace = "25s"

    @Option(name: .customLong("reload-interval"), help: "How often the config and key files are checked.")
    var reloadInterval = "1s"

    @Flag(name: .customLong("no-access-log"), help: "Do not write JSON access-log lines to standard output.")
    var noAccessLog = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("event-loop-threads"), help: "Event-loop threads (default 1: a sidecar's fraction of a core).")
    var eventLoopThreads = 1

    @Option(name: .customLong("global-store"), help: "host:port of the Redis-compatible store for Global limits and budgets (default: $LLMESH_GLOBAL_STORE; none keeps everything in memory).")
    var globalStore: String?

    @Option(name: .customLong("global-store-timeout"), help: "How long a connect or command to the global store may take before a limit's failureMode applies.")
    var globalStoreTimeout = "250ms"

    @Option(name: .customLong("workload-namespace"), help: "Namespace of the served pod (default: $LLMESH_POD_NAMESPACE or default).")
    var workloadNamespace: String?

    @Option(name: .customLong("workload-service-account"), help: "Service account of the served pod (default: $LLMESH_POD_SERVICE_ACCOUNT or default).")
    var workloadServiceAccount: String?

    @Option(name: .customLong("workload-label"), help: "A label of the served pod, key=value; repeatable (default: $LLMESH_POD_LABELS).")
    var workloadLabels: [String] = []

    @Option(name: .customLong("tls-listen"), help: "Loopback HTTPS app listener, host:port (for Bedrock bearer mode: botocore sends AWS_BEARER_TOKEN_BEDROCK only over HTTPS). Off unless given.")
    var tlsListen: String?

    @Option(name: .customLong("tls-dir"), help: "Directory where the HTTPS listener's local CA (ca.crt) and the bundle for AWS_CA_BUNDLE (ca-bundle.crt: system roots plus that CA) are written.")
    var tlsDirectory: String = "/var/run/llmesh/tls"

    @Option(name: .customLong("aws-session-duration"), help: "DurationSeconds asked of STS for web-identity credentials (15m to 12h).")
    var awsSessionDuration: String = "1h"

    @Option(name: .customLong("aws-refresh-advisory"), help: "AWS credentials this close to expiry are refreshed in the background while still used.")
    var awsRefreshAdvisory: String = "15m"

    @Option(name: .customLong("aws-refresh-mandatory"), help: "AWS credentials this close to expiry are not used: requests wait for fresh ones.")
    var awsRefreshMandatory: String = "10m"

    func validate() throws {
        guard (config == nil) != (operatorURL == nil) else { throw ValidationError("give exactly one of --config FILE (standalone) or --operator-url URL (cluster mode)") }
        guard let backoff = TimeSpan(parsing: operatorBackoffMax), backoff.milliseconds >= 100 else { throw ValidationError("--operator-backoff-max must be a duration of at least 100ms") }
        if let operatorURL, !(operatorURL.hasPrefix("https://") || operatorURL.hasPrefix("http://")) {
            throw ValidationError("--operator-url must start with https:// or http://, got \(operatorURL)")
        }
        guard ListenAddress(parsing: listen) != nil else { throw ValidationError("--listen must be host:port, got \(listen)") }
        guard ListenAddress(parsing: adminListen) != nil else { throw ValidationError("--admin-listen must be host:port, got \(adminListen)") }
        guard TimeSpan(parsing: shutdownGrace) != nil else { throw ValidationError("--shutdown-grace must be a duration such as 25s") }
        guard let interval = TimeSpan(parsing: reloadInterval), interval.milliseconds >= 50 else {
            throw ValidationError("--reload-interval must be a duration of at least 50ms")
        }
        guard (1...64).contains(eventLoopThreads) else { throw ValidationError("--event-loop-threads must be 1 to 64") }
        guard maxRequestBodyBytes > 0, maxResponseBodyBytes > 0 else { throw ValidationError("body limits must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        if let store = effectiveGlobalStore, ListenAddress(parsing: store) == nil {
            throw ValidationError("--global-store must be host:port, got \(store)")
        }
        guard let storeTimeout = TimeSpan(parsing: globalStoreTimeout), storeTimeout.milliseconds >= 1 else {
            throw ValidationError("--global-store-timeout must be a duration such as 250ms")
        }
        for label in workloadLabels where !label.contains("=") { throw ValidationError("--workload-label must be key=value, got \(label)") }
        if let tlsListen, ListenAddress(parsing: tlsListen) == nil { throw ValidationError("--tls-listen must be host:port, got \(tlsListen)") }
        guard let session = TimeSpan(parsing: awsSessionDuration), (900...43_200).contains(session.milliseconds / 1000) else {
            throw ValidationError("--aws-session-duration must be a duration from 15m to 12h")
        }
        guard let advisory = TimeSpan(parsing: awsRefreshAdvisory), let mandatory = TimeSpan(parsing: awsRefreshMandatory), mandatory.milliseconds <= advisory.milliseconds else {
            throw ValidationError("--aws-refresh-advisory and --aws-refresh-mandatory must be durations, the mandatory window no longer than the advisory one")
        }
    }

    var effectiveGlobalStore: String? {
        let fromEnvironment = ProcessInfo.processInfo.environment["LLMESH_GLOBAL_STORE"]
        let chosen = globalStore ?? fromEnvironment
        return chosen?.isEmpty == false ? chosen?.replacingOccurrences(of: "redis://", with: "") : nil
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "llmesh.sidecar")
        var settings = SidecarSettings(configPath: config ?? "")
        // validate() has checked every value parsed below.
        settings.listen = ListenAddress(parsing: listen) ?? settings.listen
        settings.adminListen = ListenAddress(parsing: adminListen) ?? settings.adminListen
        settings.maximumRequestBodyBytes = maxRequestBodyBytes
        settings.maximumResponseBodyBytes = maxResponseBodyBytes
        settings.shutdownGrace = TimeSpan(parsing: shutdownGrace) ?? settings.shutdownGrace
        settings.reloadInterval = TimeSpan(parsing: reloadInterval) ?? settings.reloadInterval
        settings.accessLog = !noAccessLog
        settings.eventLoopThreads = eventLoopThreads
        settings.globalStore = effectiveGlobalStore.flatMap(ListenAddress.init(parsing:))
        settings.globalStoreTimeout = TimeSpan(parsing: globalStoreTimeout) ?? settings.globalStoreTimeout
        var workload = WorkloadIdentity.fromEnvironment(ProcessInfo.processInfo.environment)
        if let workloadNamespace { workload.namespace = workloadNamespace }
        if let workloadServiceAccount { workload.serviceAccount = workloadServiceAccount }
        for label in workloadLabels {
            let parts = label.split(separator: "=", maxSplits: 1)
            workload.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        settings.workload = workload
        settings.tlsListen = tlsListen.flatMap(ListenAddress.init(parsing:))
        settings.tlsDirectory = tlsDirectory
        settings.awsRefresh = AWSRefreshSettings(
            sessionDuration: TimeSpan(parsing: awsSessionDuration) ?? settings.awsRefresh.sessionDuration,
            advisory: TimeSpan(parsing: awsRefreshAdvisory) ?? settings.awsRefresh.advisory,
            mandatory: TimeSpan(parsing: awsRefreshMandatory) ?? settings.awsRefresh.mandatory
        )
        if let operatorURL {
            var subscription = OperatorSubscription(url: operatorURL, namespace: workload.namespace, tokenFile: operatorTokenFile, caFile: operatorCAFile, cacheDirectory: snapshotCache)
            subscription.retryMaximum = TimeSpan(parsing: operatorBackoffMax)?.duration ?? subscription.retryMaximum
            subscription.caPEM = ProcessInfo.processInfo.environment["LLMESH_OPERATOR_CA"]
            settings.operatorSubscription = subscription
        }
        do {
            try await Sidecar(settings: settings, logger: logger).run()
        } catch let error as ConfigValidationError {
            for problem in error.problems { FileHandle.standardError.write(Data("\(config ?? "snapshot"): \(problem)\n".utf8)) }
            throw ExitCode(78)
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file without serving; list every problem with its document, resource and field."
    )

    @Argument(help: "The YAML file to check.")
    var file: String

    @Flag(name: .long, help: "Check a manifest for a cluster (kubectl apply): Secret references are allowed, the operator resolves them.")
    var cluster = false

    func run() throws {
        do {
            let (policy, _) = try ConfigFileWatcher.load(path: file, version: 1, standalone: !cluster)
            let bundle = policy.bundle
            print("OK \(file): \(bundle.providers.count) providers, \(bundle.routes.count) routes, \(bundle.virtualKeys.count) virtual keys, \(bundle.policies.count) policies; models: \(policy.exposedModels.joined(separator: ", "))")
        } catch let error as ConfigValidationError {
            for problem in error.problems { FileHandle.standardError.write(Data("\(file): \(problem)\n".utf8)) }
            FileHandle.standardError.write(Data("\(file): \(error.problems.count) problem(s) found\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("llmesh \(LLMeshVersion.current)")
    }
}
