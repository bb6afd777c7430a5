import Crypto
import Foundation
import LLMeshKube
import LLMeshModel
import Testing
@testable import LLMeshOperator

/// Builds Kubernetes objects as the API server returns them.
enum Objects {
    static func resource(_ kind: String, _ name: String, spec: JSONValue, generation: Int = 1, created: String = "2026-11-22T10:00:00Z") -> KubeObject {
        KubeObject([
            "apiVersion": "llmesh.io/v1alpha1", "kind": .string(kind),
            "metadata": [
                "name": .string(name), "namespace": "team-a", "generation": .number(Double(generation)), "uid": .string("u-\(name)"),
                "resourceVersion": "7", "creationTimestamp": .string(created), "managedFields": [],
            ],
            "spec": spec,
        ])
    }

    static func provider(_ name: String, secret: String? = nil) -> KubeObject {
        var spec: JSONValue = ["type": "OpenAI", "models": [["name": "gpt-4o-mini", "pricing": ["inputPerMillion": 1, "outputPerMillion": 2]]]]
        if let secret { spec["auth"] = ["apiKey": ["secretRef": ["name": .string(secret), "key": "api-key"]]] }
        return resource("LLMProvider", name, spec: spec)
    }

    static func route(_ name: String, model: String = "chat", providers: [String], created: String = "2026-11-22T10:00:00Z") -> KubeObject {
        resource("LLMRoute", name, spec: ["match": ["model": .string(model)], "backends": .array(providers.map { ["provider": .string($0), "model": "gpt-4o-mini"] })], created: created)
    }
}

@Suite struct NamespaceCompilerTests {
    @Test func readyResourcesGoIntoTheBundleWithResolvedSecrets() throws {
        let inputs = NamespaceInputs(
            namespace: "team-a",
            providers: [Objects.provider("openai", secret: "openai-key")],
            routes: [Objects.route("chat", providers: ["openai"])],
            virtualKeys: [Objects.resource("VirtualKey", "team-key", spec: ["secretRef": ["name": "vk", "key": "key"], "allowedModels": ["chat"]])],
            secrets: ["openai-key": ["api-key": "sk-real"], "vk": ["key": "sk-virtual"]]
        )
        let result = NamespaceCompiler.compile(inputs)
        #expect(result.entries.allSatisfy { $0.status.isReady }, "\(result.entries.map(\.status))")
        #expect(result.bundle.providers.map(\.metadata.name) == ["openai"])
        #expect(result.bundle.routes.map(\.metadata.name) == ["chat"])
        #expect(result.credentials["openai-key/api-key"] == "sk-real")
        let key = try #require(result.bundle.virtualKeys.first)
        #expect(key.spec.secretRef == nil)
        #expect(key.spec.keyHash == "sha256:" + sha256Hex("sk-virtual"))
        #expect(result.referencedSecrets == ["openai-key", "vk"])
        #expect(result.entries.first { $0.object.name == "chat" }?.status.backends == 1)
    }

    @Test func routeToAMissingProviderNamesItAndFixingItMakesItReady() {
        var inputs = NamespaceInputs(namespace: "team-a", routes: [Objects.route("chat", providers: ["anthropic"])])
        var status = NamespaceCompiler.compile(inputs).entries[0].status
        #expect(status.condition(.accepted)?.status == true)
        #expect(status.condition(.resolvedRefs)?.reason == "BackendNotFound")
        #expect(status.condition(.ready)?.status == false)
        #expect(status.condition(.ready)?.message.contains("spec.backends[0]: LLMProvider \"anthropic\" does not exist in namespace team-a") == true)
        #expect(status.backends == 0)

        inputs.providers = [Objects.provider("anthropic")]
        status = NamespaceCompiler.compile(inputs).entries.first { $0.object.name == "chat" }!.status
        #expect(status.isReady)
        #expect(status.backends == 1)
    }

    @Test func providerWithAMissingSecretKeyIsNotReadyAndItsRoutesSaySo() {
        let inputs = NamespaceInputs(
            namespace: "team-a", providers: [Objects.provider("openai", secret: "openai-key")], routes: [Objects.route("chat", providers: ["openai"])],
            secrets: ["openai-key": ["token": "x"]]
        )
        let entries = NamespaceCompiler.compile(inputs).entries
        let provider = entries.first { $0.object.name == "openai" }!.status
        #expect(provider.condition(.resolvedRefs)?.reason == "SecretKeyNotFound")
        #expect(provider.condition(.ready)?.message.contains("has no key \"api-key\" (keys: token)") == true)
        let route = entries.first { $0.object.name == "chat" }!.status
        #expect(route.condition(.resolvedRefs)?.reason == "BackendNotReady")
    }

    @Test func invalidSpecNamesTheField() {
        let bad = Objects.resource("LLMRoute", "bad", spec: ["match": ["model": "m"], "backends": [["provider": "p", "weight": -3]]])
        let status = NamespaceCompiler.compile(NamespaceInputs(namespace: "team-a", routes: [bad])).entries[0].status
        #expect(status.condition(.accepted)?.status == false)
        #expect(status.condition(.accepted)?.reason == "InvalidSpec")
        #expect(status.condition(.accepted)?.message.contains("spec.backends[0].weight") == true)
        #expect(status.condition(.resolvedRefs)?.reason == "NotChecked")
    }

    @Test func laterRouteClaimingTheSameModelIsRefused() {
        let inputs = NamespaceInputs(
            namespace: "team-a", providers: [Objects.provider("p")],
            routes: [Objects.route("second", providers: ["p"], created: "2026-11-22T11:00:00Z"), Objects.route("first", providers: ["p"], created: "2026-11-22T10:00:00Z")]
        )
        let entries = NamespaceCompiler.compile(inputs).entries
        #expect(entries.first { $0.object.name == "first" }?.status.isReady == true)
        let second = entries.first { $0.object.name == "second" }!.status
        #expect(second.condition(.accepted)?.reason == "ModelAlreadyRouted")
        #expect(second.condition(.accepted)?.message.contains("LLMRoute \"first\"") == true)
    }

    @Test func statusKeepsTransitionTimeWhileTheStatusHolds() throws {
        let status = ResourceStatus(conditions: [Condition(.ready, true, reason: "Ready", message: "ok")], observedGeneration: 2)
        let first = status.merged(into: nil, now: "2026-11-22T10:00:00Z")
        #expect(!status.differs(from: first))
        let second = status.merged(into: first, now: "2026-11-22T11:00:00Z")
        #expect(second[path: "conditions"]?.arrayValue?.first?["lastTransitionTime"] == "2026-11-22T10:00:00Z")
        var flipped = status
        flipped.conditions[0].status = false
        #expect(flipped.differs(from: first))
        let third = flipped.merged(into: first, now: "2026-11-22T12:00:00Z")
        #expect(third[path: "conditions"]?.arrayValue?.first?["lastTransitionTime"] == "2026-11-22T12:00:00Z")
        var spent: JSONValue = first
        spent["spend"] = 12.5
        #expect(status.merged(into: spent, now: "x")["spend"] == 12.5, "usage fields written by others are kept")
    }

    @Test func snapshotVersionGrowsOnlyWithContentAndWakesWaiters() async {
        let store = SnapshotStore()
        let bundle = PolicyBundle()
        let first = await store.update(namespace: "team-a", bundle: bundle, credentials: [:], sourceVersion: 10)
        #expect(first.version == 10)
        let same = await store.update(namespace: "team-a", bundle: bundle, credentials: [:], sourceVersion: 12)
        #expect(same.version == 10)
        async let waited = store.waitForNewer(namespace: "team-a", after: 10, timeout: .seconds(5))
        try? await Task.sleep(for: .milliseconds(30))
        let next = await store.update(namespace: "team-a", bundle: bundle, credentials: ["a/b": "c"], sourceVersion: 3)
        #expect(next.version == 11)
        #expect(await waited?.version == 11)
        #expect(await store.waitForNewer(namespace: "team-a", after: 11, timeout: .milliseconds(20)) == nil)
        #expect(await store.waiterCount == 0)
    }

    @Test(.timeLimit(.minutes(1))) func aTimeoutOrCancellationBeforeTheParkIsNotLost() async {
        let store = SnapshotStore()
        await store.update(namespace: "team-a", bundle: PolicyBundle(), credentials: [:], sourceVersion: 1)
        // A zero timeout races the park on every call; each must still answer, and leave no waiter behind.
        await withTaskGroup(of: PolicySnapshot?.self) { group in
            for _ in 0..<200 { group.addTask { await store.waitForNewer(namespace: "team-a", after: 1, timeout: .zero) } }
            for await answer in group { #expect(answer == nil) }
        }
        // So must a long-poll whose request is gone (cancelled) before it parks.
        for _ in 0..<200 {
            let cancelled = Task { await store.waitForNewer(namespace: "team-a", after: 1, timeout: .seconds(60)) }
            cancelled.cancel()
            #expect(await cancelled.value == nil)
        }
        #expect(await store.waiterCount == 0)
    }
}

func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
}
