import Foundation
import LLMeshKube
import LLMeshKubeTestSupport
import Logging
import NIOConcurrencyHelpers
import Testing

/// The Kubernetes client and informer against the in-process API server.
@Suite(.serialized) struct KubeClientTests {
    static let widgets = ResourceType(group: "example.com", version: "v1", plural: "widgets", kind: "Widget")

    static let widgetCRD: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "widgets.example.com"],
        "spec": [
            "group": "example.com", "scope": "Namespaced",
            "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
            "versions": [[
                "name": "v1", "served": true, "storage": true, "subresources": ["status": [:]],
                "schema": ["openAPIV3Schema": [
                    "type": "object",
                    "properties": [
                        "spec": ["type": "object", "required": ["size"], "properties": ["size": ["type": "integer", "minimum": 1], "color": ["type": "string", "enum": ["red", "blue"]]]],
                        "status": ["type": "object", "properties": ["ready": ["type": "boolean"]]],
                    ],
                ]],
            ]],
        ],
    ]

    static func widget(_ name: String, size: Int = 1, labels: [String: String] = [:]) -> JSONValue {
        ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": .string(name), "namespace": "default", "labels": .object(labels.mapValues(JSONValue.string))], "spec": ["size": .number(Double(size))]]
    }

    /// Runs `body` with a server holding the Widget CRD and a client pointed at it, and shuts both down after.
    static func withEnvironment(_ body: (TestAPIServer, KubeClient) async throws -> Void) async throws {
        var options = TestAPIServer.Options()
        options.bookmarkInterval = .milliseconds(100)
        let server = try await TestAPIServer.start(options: options)
        let client = try KubeClient(config: KubeConfig(server: server.baseURL, credentials: .token("t")))
        do {
            _ = try await client.create(ResourceType(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false), widgetCRD)
            try await body(server, client)
        } catch {
            try? await client.shutdown()
            await server.shutdown()
            throw error
        }
        try? await client.shutdown()
        await server.shutdown()
    }

    @Test func createGetUpdateAndConflict() async throws {
        try await Self.withEnvironment { server, client in
        let created = try await client.create(Self.widgets, Self.widget("a"))
        #expect(created.generation == 1)
        #expect(created.uid != nil)
        var changed = created.json
        changed["spec"] = ["size": 2]
        let updated = try await client.update(Self.widgets, changed)
        #expect(updated.generation == 2)
        #expect(updated.resourceVersion != created.resourceVersion)
        // The first version's resourceVersion is stale now.
        await #expect(throws: KubeAPIError.self) { _ = try await client.update(Self.widgets, changed) }
        do {
            _ = try await client.update(Self.widgets, changed)
        } catch let error as KubeAPIError {
            #expect(error.isConflict)
        }
        await #expect(throws: KubeAPIError.self) { _ = try await client.create(Self.widgets, Self.widget("a")) }
        }
    }

    @Test func statusSubresourceLeavesGenerationAndSpecAlone() async throws {
        try await Self.withEnvironment { server, client in
        let created = try await client.create(Self.widgets, Self.widget("s"))
        var withStatus = created.json
        withStatus["status"] = ["ready": true]
        withStatus["spec"] = ["size": 9]
        let written = try await client.updateStatus(Self.widgets, withStatus)
        #expect(written.generation == 1)
        #expect(written.status?["ready"] == true)
        #expect(written.spec?["size"] == 1, "the status endpoint ignores spec")
        var specAndStatus = written.json
        specAndStatus["status"] = ["ready": false]
        specAndStatus["spec"] = ["size": 3]
        let main = try await client.update(Self.widgets, specAndStatus)
        #expect(main.status?["ready"] == true, "the main endpoint ignores status")
        #expect(main.generation == 2)
        }
    }

    @Test func schemaViolationsNameTheFieldAndUnknownFieldsArePruned() async throws {
        try await Self.withEnvironment { server, client in
        var bad = Self.widget("bad", size: 0)
        bad["spec"]?["color"] = "green"
        do {
            _ = try await client.create(Self.widgets, bad)
            Issue.record("invalid widget accepted")
        } catch let error as KubeAPIError {
            #expect(error.code == 422)
            #expect(error.message.contains("spec.size"))
            #expect(error.message.contains("spec.color"))
        }
        var extra = Self.widget("extra")
        extra["spec"]?["unknown"] = "x"
        let stored = try await client.create(Self.widgets, extra)
        #expect(stored.spec?["unknown"] == nil)
        }
    }

    @Test func patchesMergeJSONAndApply() async throws {
        try await Self.withEnvironment { server, client in
        _ = try await client.create(Self.widgets, Self.widget("p"))
        let key = ObjectKey(namespace: "default", name: "p")
        let merged = try await client.patch(Self.widgets, key, .merge, body: ["spec": ["color": "red"]])
        #expect(merged.spec?["color"] == "red")
        #expect(merged.spec?["size"] == 1)
        let jsonPatched = try await client.patch(Self.widgets, key, .json, body: [["op": "replace", "path": "/spec/size", "value": 5]])
        #expect(jsonPatched.spec?["size"] == 5)
        let applied = try await client.patch(Self.widgets, ObjectKey(namespace: "default", name: "q"), .apply(fieldManager: "test", force: true), body: Self.widget("q", size: 4))
        #expect(applied.spec?["size"] == 4)
        let status = try await client.patch(Self.widgets, key, .merge, body: ["status": ["ready": true]], subresource: "status")
        #expect(status.status?["ready"] == true)
        }
    }

    @Test func listPaginatesAndFiltersByLabel() async throws {
        try await Self.withEnvironment { server, client in
        for index in 0..<7 { _ = try await client.create(Self.widgets, Self.widget("w\(index)", labels: ["tier": index % 2 == 0 ? "gold" : "silver"])) }
        let first = try await client.list(Self.widgets, namespace: "default", limit: 3)
        #expect(first.items.count == 3)
        #expect(first.continueToken != nil)
        let all = try await client.listAll(Self.widgets, namespace: "default", pageSize: 3)
        #expect(all.items.map(\.name) == (0..<7).map { "w\($0)" })
        let gold = try await client.listAll(Self.widgets, labelSelector: "tier=gold")
        #expect(gold.items.count == 4)
        let notGold = try await client.listAll(Self.widgets, labelSelector: "tier notin (gold)")
        #expect(notGold.items.count == 3)
        }
    }

    @Test func informerSeesEveryChangeAcrossAnExpiredWatch() async throws {
        try await Self.withEnvironment { server, client in
            _ = try await client.create(Self.widgets, Self.widget("before"))
            let informer = Informer(client: client, type: Self.widgets, namespace: "default", watchTimeoutSeconds: 30...30, logger: Logger(label: "test"))
            let seen = NIOLockedValueBox<[String]>([])
            let task = Task { await informer.run { change in seen.withLockedValue { $0.append("\(change.isDeletion ? "-" : "+")\(change.object.name)") } } }
            try await waitUntil { informer.hasSynced && informer.count == 1 }
            _ = try await client.create(Self.widgets, Self.widget("live"))
            try await waitUntil { informer.object(ObjectKey(namespace: "default", name: "live")) != nil }

            // The watch ends with an in-stream 410, the first relist fails, and the server holds the second, so the
            // changes made meanwhile reach no watch: they must arrive through that relist, deletions included.
            let widgets = "/apis/example.com/v1/namespaces/default/widgets"
            await server.compactHistory()
            await server.failNext(method: "GET", pathPrefix: widgets, status: 500)
            let relist = await server.holdNextList(pathPrefix: widgets)
            await server.expireWatches()
            try await waitUntil { informer.statistics.expirations == 1 && informer.statistics.errors == 1 && relist.hasArrived }
            #expect(await server.openWatches == 0)
            try await client.delete(Self.widgets, ObjectKey(namespace: "default", name: "before"))
            _ = try await client.create(Self.widgets, Self.widget("during"))
            relist.release()
            try await waitUntil(seconds: 10) {
                informer.object(ObjectKey(namespace: "default", name: "during")) != nil && informer.object(ObjectKey(namespace: "default", name: "before")) == nil
            }
            #expect(informer.statistics.lists == 2)
            let events = seen.withLockedValue { $0 }
            #expect(events.contains("-before"))
            #expect(events.contains("+during"))
            _ = try await client.create(Self.widgets, Self.widget("after"))
            try await waitUntil { informer.object(ObjectKey(namespace: "default", name: "after")) != nil }
            task.cancel()
            await task.value
        }
    }

    @Test func informerBacksOffOnServerErrorsAndRecovers() async throws {
        try await Self.withEnvironment { server, client in
        await server.failNext(method: "GET", pathPrefix: "/apis/example.com/v1/namespaces/default/widgets", status: 500)
        let informer = Informer(client: client, type: Self.widgets, namespace: "default", logger: Logger(label: "test"))
        let task = Task { await informer.run { _ in } }
        try await waitUntil(seconds: 10) { informer.hasSynced }
        #expect(informer.statistics.errors == 1)
        task.cancel()
        await task.value
        }
    }

    @Test func tokenReviewReportsAudienceAndNamespace() async throws {
        try await Self.withEnvironment { server, client in
        await server.registerToken("sidecar-token", username: "system:serviceaccount:team-a:app", audiences: ["llmesh.io/operator"])
        let good = try await client.tokenReview(token: "sidecar-token", audiences: ["llmesh.io/operator"])
        #expect(good.authenticated)
        #expect(good.serviceAccountNamespace == "team-a")
        let wrongAudience = try await client.tokenReview(token: "sidecar-token", audiences: ["sts.amazonaws.com"])
        #expect(!wrongAudience.authenticated)
        let unknown = try await client.tokenReview(token: "nope", audiences: ["llmesh.io/operator"])
        #expect(!unknown.authenticated)
        }
    }

    @Test func leaderElectionHasOneLeaderAndFailsOver() async throws {
        try await Self.withEnvironment { server, client in
        // A lease far longer than any scheduling stall on a busy machine: the follower must not take over early.
        let timing = LeaderElectionTiming(leaseDuration: .seconds(30), renewDeadline: .seconds(20), retryPeriod: .milliseconds(200))
        let first = LeaderElector(client: client, leaseName: "op", namespace: "default", identity: "one", timing: timing, logger: Logger(label: "one"))
        let second = LeaderElector(client: client, leaseName: "op", namespace: "default", identity: "two", timing: timing, logger: Logger(label: "two"))
        let firstTask = Task { await first.run { _ in } }
        try await waitUntil { first.isLeader }
        let secondTask = Task { await second.run { _ in } }
        defer { secondTask.cancel() }
        try await Task.sleep(for: .milliseconds(800))
        #expect(first.isLeader && !second.isLeader, "exactly one leader")
        firstTask.cancel()
        await firstTask.value
        #expect(!first.isLeader)
        // Well inside the 30 s lease: only the cancelled leader's release lets the follower in this soon.
        try await waitUntil(seconds: 20) { second.isLeader }
        let lease = try await client.get(.leases, ObjectKey(namespace: "default", name: "op"))
        #expect(lease.spec?["holderIdentity"] == "two")
        #expect(lease.spec?["leaseTransitions"] == 1)
        }
    }

    @Test func leaderThatCannotRenewStepsDown() async throws {
        let server = try await TestAPIServer.start()
        let client = try KubeClient(config: KubeConfig(server: server.baseURL, credentials: .token("t")))
        let timing = LeaderElectionTiming(leaseDuration: .milliseconds(1500), renewDeadline: .milliseconds(600), retryPeriod: .milliseconds(200))
        let elector = LeaderElector(client: client, leaseName: "op", namespace: "default", identity: "one", timing: timing, logger: Logger(label: "one"))
        let task = Task { await elector.run { _ in } }
        try await waitUntil { elector.isLeader }
        await server.shutdown()
        let steppedDown = (try? await waitUntil(seconds: 15) { !elector.isLeader }) != nil
        task.cancel()
        await task.value
        try? await client.shutdown()
        #expect(steppedDown)
    }
}

extension InformerChange {
    var isDeletion: Bool {
        if case .deleted = self { return true }
        return false
    }
}

/// Polls `condition` until it holds, failing after `seconds`.
func waitUntil(seconds: Double = 20, _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(seconds) s")
    throw CancellationError()
}
