import ArgumentParser
import Foundation
import LLMeshKube
import LLMeshOperator
import LLMeshSidecar
import Logging
import NIOHTTP1
import ServiceLifecycle

/// `llmesh operator`: reconciles llmesh resources into conditions and per-namespace policy snapshots.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Watch llmesh resources, write their conditions and compile per-namespace policy snapshots."
    )

    @Option(name: .long, help: "Kubeconfig file; default: in-cluster configuration, else $KUBECONFIG or ~/.kube/config.")
    var kubeconfig: String?

    @Option(name: .long, help: "Kubeconfig context; default: its current context.")
    var context: String?

    @Option(name: .customLong("watch-namespace"), help: "Watch only this namespace; default: all namespaces.")
    var watchNamespace: String?

    @Flag(name: .customLong("leader-elect"), help: "Elect one leader among replicas with a Lease; only the leader writes status.")
    var leaderElect = false

    @Option(name: .customLong("lease-name"), help: "Name of the leader-election Lease.")
    var leaseName = "llmesh-operator"

    @Option(name: .customLong("lease-namespace"), help: "Namespace of the Lease; default: the operator's own namespace.")
    var leaseNamespace: String?

    @Option(name: .long, help: "This replica's identity in the Lease; default: $POD_NAME, else the host name.")
    var identity: String?

    @Option(name: .customLong("lease-duration"), help: "Seconds other replicas wait after the last renewal before taking over.")
    var leaseDuration = 15.0

    @Option(name: .customLong("renew-deadline"), help: "Seconds the leader keeps retrying renewal before giving up leadership.")
    var renewDeadline = 10.0

    @Option(name: .customLong("retry-period"), help: "Seconds between lease attempts.")
    var retryPeriod = 2.0

    @Option(name: .long, help: "Concurrent namespace reconciles.")
    var workers = 2

    @Option(name: .customLong("admin-listen"), help: "Admin listener (/healthz, /readyz, /metrics), host:port.")
    var adminListen = "0.0.0.0:8080"

    @Option(name: .customLong("https-listen"), help: "Snapshot service and webhooks listener, host:port.")
    var httpsListen = "0.0.0.0:8443"

    @Option(name: .customLong("tls-cert-file"), help: "PEM certificate chain of the HTTPS listener (re-read when it changes).")
    var tlsCertFile: String?

    @Option(name: .customLong("tls-key-file"), help: "PEM private key of the HTTPS listener.")
    var tlsKeyFile: String?

    @Flag(name: .customLong("manage-certificates"), help: "Create and rotate the operator's own CA and serving certificate in a Secret and patch caBundle into the webhook configurations.")
    var manageCertificates = false

    @Option(name: .customLong("certificate-secret"), help: "Secret (in the operator's namespace) holding the self-managed certificates.")
    var certificateSecret = "llmesh-operator-tls"

    @Option(name: .customLong("service-name"), help: "The operator's Service, for the certificate's DNS names.")
    var serviceName = "llmesh-operator"

    @Option(name: .customLong("mutating-webhook-configuration"), help: "MutatingWebhookConfiguration whose caBundle the operator keeps current.")
    var mutatingWebhookConfiguration = "llmesh-sidecar-injector"

    @Option(name: .customLong("validating-webhook-configuration"), help: "ValidatingWebhookConfiguration whose caBundle the operator keeps current.")
    var validatingWebhookConfiguration = "llmesh-validation"

    @Option(name: .customLong("certificate-check-interval"), help: "Seconds between checks of the self-managed certificates.")
    var certificateCheckInterval = 3600.0

    @Option(name: .customLong("ca-validity"), help: "Seconds a self-managed CA is valid (renewed with a third left).")
    var caValidity = 10.0 * 365 * 86_400

    @Option(name: .customLong("serving-certificate-validity"), help: "Seconds a self-managed serving certificate is valid (renewed with a third left).")
    var servingCertificateValidity = 365.0 * 86_400

    @Option(name: .customLong("bundle-propagation-delay"), help: "Seconds the new CA bundle is published before a certificate of a rotated CA is served.")
    var bundlePropagationDelay = 60.0

    @Option(name: .customLong("certificate-ip"), help: "An IP address for the serving certificate (repeatable; tests and non-Service access).")
    var certificateIPs: [String] = []

    @Flag(name: .customLong("plain-http"), help: "Serve the snapshot service without TLS. For tests only: snapshots carry provider API keys.")
    var plainHTTP = false

    @Option(name: .customLong("usage-flush-interval"), help: "Seconds between the leader's writes of usage to status.")
    var usageFlushInterval = 1.0

    @Option(name: .customLong("sidecar-image"), help: "Image of the injected sidecar.")
    var sidecarImage = "ghcr.io/llmesh/llmesh:\(LLMeshVersion.current)"

    @Option(name: .customLong("sidecar-operator-url"), help: "The operator's address as injected sidecars reach it; default: https://llmesh-operator.<own namespace>.svc:8443.")
    var sidecarOperatorURL: String?

    @Option(name: .customLong("sidecar-operator-ca-configmap"), help: "ConfigMap (in each pod's namespace) with ca.crt of the operator's CA, mounted into sidecars.")
    var sidecarOperatorCAConfigMap: String?

    @Flag(name: .customLong("sidecar-native"), inversion: .prefixedNo, help: "Inject a native sidecar (Kubernetes 1.29+); otherwise a first container that holds the app until ready.")
    var sidecarNative = true

    @Option(name: .customLong("sidecar-log-level"), help: "Log level of injected sidecars (per pod: annotation llmesh.io/log-level).")
    var sidecarLogLevel = "info"

    @Option(name: .customLong("sidecar-tls-port"), help: "Port of the injected sidecar's loopback HTTPS listener (Bedrock bearer mode).")
    var sidecarTLSPort = 15443

    @Option(name: .customLong("sidecar-cpu-request"), help: "CPU request of injected sidecars.")
    var sidecarCPURequest = "50m"

    @Option(name: .customLong("sidecar-memory-request"), help: "Memory request of injected sidecars.")
    var sidecarMemoryRequest = "32Mi"

    @Option(name: .customLong("sidecar-memory-limit"), help: "Memory limit of injected sidecars.")
    var sidecarMemoryLimit = "128Mi"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        if let problem = timing.problem { throw ValidationError(problem) }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard plainHTTP || manageCertificates || (tlsCertFile != nil && tlsKeyFile != nil) else {
            throw ValidationError("give --manage-certificates, or --tls-cert-file and --tls-key-file (from cert-manager), or --plain-http for tests")
        }
        guard ListenAddress(parsing: httpsListen) != nil else { throw ValidationError("--https-listen must be host:port, got \(httpsListen)") }
    }

    private var timing: LeaderElectionTiming {
        LeaderElectionTiming(leaseDuration: .milliseconds(Int(leaseDuration * 1000)), renewDeadline: .milliseconds(Int(renewDeadline * 1000)), retryPeriod: .milliseconds(Int(retryPeriod * 1000)))
    }

    func run() async throws {
        var logger = Logger(label: "llmesh.operator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let config = try loadConfig()
        let client = try KubeClient(config: config, logger: logger)
        let identity = identity ?? ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
        let election = leaderElect ? LeaderElectionSettings(leaseName: leaseName, leaseNamespace: leaseNamespace ?? config.namespace, identity: identity, timing: timing) : nil
        let controller = OperatorController(client: client, settings: ControllerSettings(namespace: watchNamespace, workers: workers, leaderElection: election, usageFlushInterval: .milliseconds(Int(usageFlushInterval * 1000))), logger: logger)
        let authenticator = TokenAuthenticator(client: client)
        let metrics = controller.metrics
        let snapshots = controller.snapshots
        let snapshotService = SnapshotService(store: snapshots, authenticator: authenticator) { latency in metrics.recordPushLatency(latency) }
        var injection = InjectionSettings(image: sidecarImage, operatorURL: sidecarOperatorURL ?? "https://llmesh-operator.\(config.namespace).svc:8443")
        injection.nativeSidecar = sidecarNative
        injection.logLevel = sidecarLogLevel
        injection.tlsPort = sidecarTLSPort
        injection.operatorCAConfigMap = sidecarOperatorCAConfigMap
        injection.cpuRequest = sidecarCPURequest
        injection.memoryRequest = sidecarMemoryRequest
        injection.memoryLimit = sidecarMemoryLimit
        var certificateSettings = CertificateManager.Settings(namespace: config.namespace, secretName: certificateSecret, serviceName: serviceName, mutatingWebhook: mutatingWebhookConfiguration, validatingWebhook: validatingWebhookConfiguration)
        certificateSettings.ipAddresses = certificateIPs
        certificateSettings.caValidity = caValidity
        certificateSettings.servingValidity = servingCertificateValidity
        certificateSettings.bundlePropagationDelay = .milliseconds(Int(bundlePropagationDelay * 1000))
        let certificates = manageCertificates ? CertificateManager(client: client, settings: certificateSettings, logger: logger) : nil
        try await certificates?.reconcile()
        let webhooks = AdmissionWebhooks(settings: injection, operatorCA: { certificates?.caBundlePEM })
        let usageService = UsageService(intake: controller.usage, authenticator: authenticator, isLeader: { controller.isLeader })
        var tls: ReloadingTLSContext?
        if let tlsCertFile, let tlsKeyFile { tls = try ReloadingTLSContext(certificateFile: tlsCertFile, keyFile: tlsKeyFile) }
        guard let serviceAddress = ListenAddress(parsing: httpsListen) else { throw ValidationError("--https-listen must be host:port") }
        let services = try await OperatorHTTPServer.start(
            host: serviceAddress.host, port: serviceAddress.port,
            routes: [
                .init(prefix: SnapshotService.pathPrefix) { await snapshotService.handle($0) },
                .init(prefix: UsageService.path) { await usageService.handle($0) },
                .init(prefix: AdmissionWebhooks.injectPath) { webhooks.inject($0) },
                .init(prefix: AdmissionWebhooks.validatePath) { webhooks.validate($0) },
            ],
            tls: tls,
            certificates: certificates
        )
        guard let address = ListenAddress(parsing: adminListen) else { throw ValidationError("--admin-listen must be host:port, got \(adminListen)") }
        let (host, port) = (address.host, address.port)
        let admin = try await OperatorAdminServer.start(host: host, port: port) { method, path in
            switch (method, path) {
            case (.GET, "/healthz"): return (.ok, "text/plain", Array("ok\n".utf8))
            case (.GET, "/readyz"):
                return controller.hasSynced ? (.ok, "text/plain", Array("ready\n".utf8)) : (.serviceUnavailable, "text/plain", Array("informers not synced\n".utf8))
            case (.GET, "/metrics"): return (.ok, "text/plain; version=0.0.4", controller.metrics.exposition())
            default: return (.notFound, "text/plain", Array("not found\n".utf8))
            }
        }
        logger.info("operator started", metadata: ["server": "\(config.server)", "admin": "\(host):\(admin.port)", "services": "\(serviceAddress.host):\(services.port)", "tls": "\(tls != nil)", "leaderElection": "\(leaderElect)", "identity": "\(identity)"])
        let checkInterval = Duration.milliseconds(Int(certificateCheckInterval * 1000))
        let group = ServiceGroup(configuration: .init(services: [.init(service: ControllerService(controller: controller, certificates: certificates, certificateCheckInterval: checkInterval))], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await services.close()
        await admin.close()
        try await client.shutdown()
        logger.info("operator stopped")
    }

    private func loadConfig() throws -> KubeConfig {
        if let kubeconfig { return try KubeConfig.kubeconfig(path: kubeconfig, context: context) }
        let environment = ProcessInfo.processInfo.environment
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try KubeConfig.inCluster() }
        let path = environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init) ?? "\(NSHomeDirectory())/.kube/config"
        return try KubeConfig.kubeconfig(path: path, context: context)
    }
}

/// Runs the controller until graceful shutdown.
private struct ControllerService: Service {
    let controller: OperatorController
    let certificates: CertificateManager?
    let certificateCheckInterval: Duration

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await controller.run() }
                if let certificates { group.addTask { await certificates.run(interval: certificateCheckInterval) } }
            }
        }
    }
}
