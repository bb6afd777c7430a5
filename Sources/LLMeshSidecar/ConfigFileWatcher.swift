import Foundation
import LLMeshModel
import Logging
import ServiceLifecycle

/// Loads the standalone config file, then re-reads it (and the API-key files it names) every tick.
///
/// A change is applied only when the whole new file validates; otherwise the old policy stays in force and
/// every problem is logged. Comparing content rather than modification times also catches the symlink swaps
/// Kubernetes uses for mounted ConfigMaps and Secrets.
public struct ConfigFileWatcher: Service {
    let path: String
    let interval: TimeSpan
    let store: PolicyStore
    let credentials: CredentialStore
    let metrics: SidecarMetrics
    let logger: Logger
    let loadedContent: Data?

    /// `loadedContent` is the file as it was when the policy in force was loaded: a change written before the
    /// first tick is then still a change.
    public init(path: String, interval: TimeSpan, loadedContent: Data? = nil, store: PolicyStore, credentials: CredentialStore, metrics: SidecarMetrics, logger: Logger) {
        self.path = path
        self.interval = interval
        self.loadedContent = loadedContent
        self.store = store
        self.credentials = credentials
        self.metrics = metrics
        self.logger = logger
    }

    /// Reads and compiles the file once; used at start-up, where a bad file is fatal.
    public static func load(path: String, version: Int, standalone: Bool = true) throws -> (policy: RuntimePolicy, content: Data) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigValidationError(problems: [ConfigProblem(fieldPath: "", message: "cannot read \(path)")])
        }
        return (try compile(data, path: path, version: version, standalone: standalone), data)
    }

    /// Compiles the file's bytes as read, so what is applied is exactly what was compared.
    static func compile(_ data: Data, path: String, version: Int, standalone: Bool = true) throws -> RuntimePolicy {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigValidationError(problems: [ConfigProblem(fieldPath: "", message: "\(path) is not UTF-8 text")])
        }
        let bundle = try ConfigFileLoader().load(yaml: text)
        return try RuntimePolicy(bundle: bundle, version: version, source: path, standalone: standalone)
    }

    public func run() async throws {
        var lastContent = loadedContent ?? FileManager.default.contents(atPath: path)
        var lastFailedContent: Data?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval.duration)
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            if let policy = store.current {
                credentials.refresh(sources: policy.bundle.providers.compactMap { $0.spec.auth?.apiKey })
            }
            guard let content = FileManager.default.contents(atPath: path) else {
                if lastFailedContent != Data() {
                    logger.warning("config file cannot be read; keeping the policy in force", metadata: ["path": "\(path)"])
                    lastFailedContent = Data()
                }
                continue
            }
            guard content != lastContent, content != lastFailedContent else { continue }
            let version = (store.current?.version ?? 0) + 1
            do {
                let policy = try Self.compile(content, path: path, version: version)
                store.apply(policy)
                credentials.refresh(sources: policy.bundle.providers.compactMap { $0.spec.auth?.apiKey })
                lastContent = content
                lastFailedContent = nil
                metrics.recordReload(success: true, version: version)
                logger.info("config reloaded", metadata: ["path": "\(path)", "version": "\(version)", "resources": "\(policy.bundle.count)"])
            } catch {
                lastFailedContent = content
                metrics.recordReload(success: false, version: store.current?.version ?? 0)
                let problems = (error as? ConfigValidationError)?.problems.map(\.description) ?? ["\(error)"]
                logger.error(
                    "config file rejected; keeping the policy in force",
                    metadata: ["path": "\(path)", "problems": .array(problems.map { .string($0) })]
                )
            }
        }
    }
}
