import Foundation
import LLMeshLimits
import LLMeshModel
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A whole sidecar: policy from a file, the app and admin listeners, and graceful shutdown.
public struct Sidecar: Sendable {
    public let settings: SidecarSettings
    let logger: Logger

    public init(settings: SidecarSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT, then drains in-flight requests for up to the grace period.
    ///
    /// Throws when the initial config file is invalid: a sidecar never starts on a policy it cannot enforce.
    public func run() async throws {
        let credentials = CredentialStore()
        let metrics = SidecarMetrics()
        let store: PolicyStore
        var loadedContent: Data?
        if let subscription = settings.operatorSubscription {
            store = PolicyStore()
            _ = SnapshotSubscriber.applyCached(subscription, store: store, credentials: credentials, logger: logger)
        } else {
            let (initial, content) = try ConfigFileWatcher.load(path: settings.configPath, version: 1)
            loadedContent = content
            store = PolicyStore(initial: initial)
            credentials.refresh(sources: initial.bundle.providers.compactMap { $0.spec.auth?.apiKey })
            metrics.recordReload(success: true, version: 1)
        }
        let readiness = Readiness(listeners: settings.tlsListen == nil ? 1 : 2)
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.eventLoopThreads))
        let upstreams = UpstreamClients(eventLoopGroup: eventLoopGroup, proxy: EgressProxy(environment: ProcessInfo.processInfo.environment))
        let accessLog = AccessLog(enabled: settings.accessLog)
        let health = BackendHealth()
        let globalStore = settings.globalStore.map { RedisCounterStore(client: RESPClient(host: $0.host, port: $0.port, timeout: settings.globalStoreTimeout.duration, group: eventLoopGroup)) }
        let usageReporter = try settings.operatorSubscription.map { subscription in
            try UsageReporter(subscription: subscription, sidecarID: settings.sidecarID, eventLoopGroup: eventLoopGroup, logger: logger)
        }
        let policyEngine = PolicyEngine(workload: settings.workload, global: globalStore, metrics: metrics, logger: logger, usageReporter: usageReporter)

        let awsCredentials = AWSCredentialRegistry(httpClient: upstreams.credentialClient, refresh: settings.awsRefresh, logger: logger)
        let handler = LLMRequestHandler(settings: settings, store: store, credentials: credentials, upstreams: upstreams, metrics: metrics, accessLog: accessLog, health: health, policyEngine: policyEngine, awsCredentials: awsCredentials, logger: logger)
        // The loopback HTTPS listener serves the same handler; its CA files exist before the sidecar reports ready.
        let tlsServer = try settings.tlsListen.map { address in
            let material = try LoopbackTLS.loadOrCreate(stateDirectory: settings.operatorSubscription?.cacheDirectory)
            let bundle = try material.writeFiles(to: settings.tlsDirectory)
            logger.info("loopback TLS ready", metadata: ["ca-bundle": "\(bundle)"])
            return HTTPServer(name: "app-tls", address: address, handler: handler, maximumBodyBytes: settings.maximumRequestBodyBytes, eventLoopGroup: eventLoopGroup, logger: logger, tls: try material.serverContext(), onBound: { _ in readiness.markListening() })
        }
        let appServer = HTTPServer(
            name: "app",
            address: settings.listen,
            handler: handler,
            maximumBodyBytes: settings.maximumRequestBodyBytes,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            onBound: { _ in readiness.markListening() },
            onShutdown: { readiness.markDraining() }
        )
        let adminServer = HTTPServer(
            name: "admin",
            address: settings.adminListen,
            handler: AdminHandler(store: store, credentials: credentials, metrics: metrics, readiness: readiness, health: health, policyEngine: policyEngine, awsCredentials: awsCredentials),
            maximumBodyBytes: 64 * 1024,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        let policySource: any Service
        if let subscription = settings.operatorSubscription {
            policySource = try SnapshotSubscriber(subscription: subscription, store: store, credentials: credentials, metrics: metrics, eventLoopGroup: eventLoopGroup, logger: logger)
        } else {
            policySource = ConfigFileWatcher(path: settings.configPath, interval: settings.reloadInterval, loadedContent: loadedContent, store: store, credentials: credentials, metrics: metrics, logger: logger)
        }

        // Services shut down in reverse order: the app listener drains first, the admin listener (probes) last.
        let serviceList: [any Service] = [adminServer, policySource] + (usageReporter.map { [$0] } ?? []) + (tlsServer.map { [$0] } ?? []) + [appServer]
        var configuration = ServiceGroupConfiguration(
            services: serviceList.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = settings.shutdownGrace.duration
        configuration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: configuration)
        let source = settings.operatorSubscription.map { "operator \($0.url) namespace \($0.namespace)" } ?? settings.configPath
        logger.info("sidecar starting", metadata: ["policy": "\(source)", "version": "\(store.current?.version ?? 0)", "models": "\(store.current?.exposedModels.joined(separator: ",") ?? "")"])
        // A listener that cannot bind fails start-up: the process must exit non-zero so that the kubelet (or the
        // person at the terminal) sees it. Other errors end a shutdown already under way.
        var startupFailure: ListenerBindError?
        do {
            try await group.run()
        } catch let error as ListenerBindError {
            logger.error("sidecar cannot start", metadata: ["error": "\(error)"])
            startupFailure = error
        } catch {
            logger.warning("shutdown did not finish cleanly", metadata: ["error": "\(error)"])
        }
        logger.debug("closing upstream pools")
        await upstreams.shutdown()
        logger.debug("stopping event loops")
        try? await eventLoopGroup.shutdownGracefully()
        if let startupFailure { throw startupFailure }
        logger.info("sidecar stopped")
    }
}
