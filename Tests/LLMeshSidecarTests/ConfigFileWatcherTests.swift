import Foundation
import LLMeshModel
import Logging
import Testing
@testable import LLMeshSidecar

/// The standalone config file: changes are applied whole, including one written before the watcher's first tick.
@Suite struct ConfigFileWatcherTests {
    static func config(model: String) -> String {
        """
        apiVersion: llmesh.io/v1alpha1
        kind: LLMProvider
        metadata: {name: up}
        spec: {type: OpenAI, endpoint: "http://127.0.0.1:1/v1"}
        ---
        apiVersion: llmesh.io/v1alpha1
        kind: LLMRoute
        metadata: {name: chat}
        spec:
          match: {model: \(model)}
          backends: [{provider: up, model: m}]
        """
    }

    /// Runs a watcher on `path` ticking every 20 ms until `condition` holds on the store (for up to 20 s).
    func watch(path: String, loadedContent: Data?, store: PolicyStore, until condition: @escaping @Sendable () -> Bool) async -> Bool {
        let watcher = ConfigFileWatcher(path: path, interval: TimeSpan(milliseconds: 20), loadedContent: loadedContent, store: store, credentials: CredentialStore(), metrics: SidecarMetrics(), logger: Logger(label: "test"))
        let task = Task { try await watcher.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// A config file routing `first`, loaded as the sidecar loads it at start-up; removed afterwards.
    func withLoadedFile(_ body: (_ path: String, _ content: Data, _ store: PolicyStore) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-watch-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(Self.config(model: "first"), to: path)
        let (initial, content) = try ConfigFileWatcher.load(path: path, version: 1)
        try await body(path, content, PolicyStore(initial: initial))
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func aChangeWrittenBeforeTheFirstTickIsApplied() async throws {
        try await withLoadedFile { path, content, store in
            // The file changes between the start-up load and the watcher's first read.
            try write(Self.config(model: "second"), to: path)
            let applied = await watch(path: path, loadedContent: content, store: store) { store.current?.exposedModels.contains("second") == true }
            #expect(applied)
            #expect(store.current?.version == 2)
        }
    }

    @Test func anInvalidChangeKeepsThePolicyInForce() async throws {
        try await withLoadedFile { path, content, store in
            try write("kind: LLMRoute\nspec: [unclosed", to: path)
            // Then a valid change after the broken one: it is applied, and the broken one never was.
            let watcher = Task {
                await watch(path: path, loadedContent: content, store: store) { store.current?.exposedModels.contains("third") == true }
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(store.current?.exposedModels == ["first"])
            try write(Self.config(model: "third"), to: path)
            #expect(await watcher.value)
            #expect(store.current?.version == 2)
        }
    }
}
