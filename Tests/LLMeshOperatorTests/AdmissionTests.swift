import LLMeshCertificates
import Foundation
import LLMeshKube
import Testing
@testable import LLMeshOperator

@Suite struct SidecarInjectorTests {
    static let settings = InjectionSettings(image: "ghcr.io/llmesh/llmesh:test", operatorURL: "https://llmesh-operator.llmesh-system.svc:8443")

    static func pod(_ spec: JSONValue, labels: [String: String] = [:], annotations: [String: String]? = nil) -> JSONValue {
        var metadata: JSONValue = ["name": "p", "labels": .object(labels.mapValues(JSONValue.string))]
        if let annotations { metadata["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec]
    }

    /// Applies `add` operations the way the API server does, enough for these pods.
    static func apply(_ patch: [JSONValue], to document: JSONValue) throws -> JSONValue {
        var result = document
        for operation in patch {
            let path = try #require(operation["path"]?.stringValue)
            let value = try #require(operation["value"])
            let tokens = path.split(separator: "/").map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            result = insert(value, at: tokens[...], into: result)
        }
        return result
    }

    private static func insert(_ value: JSONValue, at tokens: ArraySlice<String>, into document: JSONValue) -> JSONValue {
        guard let token = tokens.first else { return value }
        let rest = tokens.dropFirst()
        switch document {
        case .array(var array):
            if rest.isEmpty {
                if token == "-" { array.append(value) } else if let index = Int(token) { array.insert(value, at: index) }
            } else if let index = Int(token) {
                array[index] = insert(value, at: rest, into: array[index])
            }
            return .array(array)
        default:
            var object = document.objectValue ?? [:]
            object[token] = rest.isEmpty ? value : insert(value, at: rest, into: object[token] ?? .object([:]))
            return .object(object)
        }
    }

    @Test func addsANativeSidecarAndSDKVariablesWithoutOverridingTheApps() throws {
        let pod = Self.pod(["containers": [["name": "app", "image": "python", "env": [["name": "OPENAI_BASE_URL", "value": "https://mine/v1"]]], ["name": "worker", "image": "python"]]])
        let result = SidecarInjector.inject(pod: pod, namespace: "shop", settings: Self.settings, operatorCA: "CA")
        #expect(result.skipped == nil)
        let injected = try Self.apply(result.patch, to: pod)
        let sidecar = try #require(injected[path: "spec.initContainers"]?.arrayValue?.first)
        #expect(sidecar["name"] == "llmesh-sidecar")
        #expect(sidecar["restartPolicy"] == "Always")
        #expect(sidecar[path: "securityContext.readOnlyRootFilesystem"] == true)
        #expect(sidecar["env"]?.arrayValue?.contains { $0["name"] == "LLMESH_OPERATOR_CA" && $0["value"] == "CA" } == true)
        let containers = try #require(injected[path: "spec.containers"]?.arrayValue)
        let appEnv = Dictionary(uniqueKeysWithValues: (containers[0]["env"]?.arrayValue ?? []).compactMap { e in e["name"]?.stringValue.map { ($0, e["value"]?.stringValue ?? "") } })
        #expect(appEnv["OPENAI_BASE_URL"] == "https://mine/v1")
        #expect(appEnv["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:15080")
        let workerEnv = containers[1]["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(workerEnv == ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"])
        #expect(injected[path: "metadata.annotations"]?["llmesh.io/injected"] == "true")
        let again = SidecarInjector.inject(pod: injected, namespace: "shop", settings: Self.settings)
        #expect(again.patch.isEmpty && again.skipped == "already injected")
    }

    @Test func fallbackPutsTheSidecarFirstAndHoldsTheApp() throws {
        var settings = Self.settings
        settings.nativeSidecar = false
        let pod = Self.pod(["initContainers": [["name": "init", "image": "busybox"]], "containers": [["name": "app", "image": "python"]]])
        let injected = try Self.apply(SidecarInjector.inject(pod: pod, namespace: "shop", settings: settings).patch, to: pod)
        let containers = try #require(injected[path: "spec.containers"]?.arrayValue)
        #expect(containers.map { $0["name"]?.stringValue } == ["llmesh-sidecar", "app"])
        #expect(containers[0][path: "lifecycle.postStart.exec.command"]?.arrayValue?.contains("wait-ready") == true)
        #expect(containers[1]["env"]?.arrayValue?.count == 3, "app env goes to the shifted index")
        #expect(injected[path: "spec.initContainers"]?.arrayValue?.count == 1)
    }

    @Test func leavesOptedOutHostNetworkAndEmptyPodsAlone() {
        let container: JSONValue = ["containers": [["name": "a", "image": "b"]]]
        #expect(SidecarInjector.inject(pod: Self.pod(container, labels: ["llmesh.io/inject": "false"]), namespace: "x", settings: Self.settings).patch.isEmpty)
        #expect(SidecarInjector.inject(pod: Self.pod(container, annotations: ["llmesh.io/inject": "false"]), namespace: "x", settings: Self.settings).patch.isEmpty)
        let host = SidecarInjector.inject(pod: Self.pod(["hostNetwork": true, "containers": [["name": "a", "image": "b"]]]), namespace: "x", settings: Self.settings)
        #expect(host.patch.isEmpty && host.warnings.first?.contains("hostNetwork") == true)
        #expect(SidecarInjector.inject(pod: Self.pod([:]), namespace: "x", settings: Self.settings).patch.isEmpty)
    }

    @Test func annotationsOverrideResourcesLogLevelAndSkipVariables() throws {
        let pod = Self.pod(["containers": [["name": "a", "image": "b"]]], annotations: [
            "llmesh.io/sidecar-cpu-limit": "500m", "llmesh.io/sidecar-memory-request": "not-a-quantity", "llmesh.io/log-level": "debug",
            "llmesh.io/skip-env": "ANTHROPIC_BASE_URL, AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        ])
        let result = SidecarInjector.inject(pod: pod, namespace: "x", settings: Self.settings)
        #expect(result.warnings.contains { $0.contains("sidecar-memory-request") })
        let injected = try Self.apply(result.patch, to: pod)
        let sidecar = try #require(injected[path: "spec.initContainers"]?.arrayValue?.first)
        #expect(sidecar[path: "resources.limits"]?["cpu"] == "500m")
        #expect(sidecar[path: "resources.requests"]?["memory"] == "32Mi")
        #expect(sidecar["args"]?.arrayValue?.contains("debug") == true)
        #expect(injected[path: "spec.containers"]?.arrayValue?.first?["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["OPENAI_BASE_URL"])
    }
}

@Suite struct AdmissionReviewTests {
    let webhooks = AdmissionWebhooks(settings: SidecarInjectorTests.settings)

    func post(_ body: String, path: String = "/inject") -> ServiceResponse {
        let request = ServiceRequest(method: "POST", path: path, body: Array(body.utf8))
        return path == "/inject" ? webhooks.inject(request) : webhooks.validate(request)
    }

    @Test(arguments: ["", "not json", "{}", #"{"kind":"AdmissionReview"}"#, #"{"kind":"AdmissionReview","request":{}}"#, String(repeating: "[", count: 10_000)])
    func malformedReviewsGetACleanError(body: String) throws {
        let response = post(body)
        #expect(response.status == 400)
        let error = try JSONValue.parse(response.body)
        #expect(error["error"]?.stringValue?.contains("AdmissionReview") == true)
    }

    @Test func answerEchoesTheUIDAndCarriesABase64Patch() throws {
        let review = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"abc","namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"b"}]}}}}"#
        let response = post(review)
        #expect(response.status == 200)
        let answer = try #require(try JSONValue.parse(response.body)["response"])
        #expect(answer["uid"] == "abc" && answer["allowed"] == true && answer["patchType"] == "JSONPatch")
        let patch = try #require(answer["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(try JSONValue.parse(patch).arrayValue?.isEmpty == false)
    }

    @Test func validateRefusesWithTheFieldAndAllowsDeletes() throws {
        let bad = #"{"kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"apiVersion":"llmesh.io/v1alpha1","kind":"VirtualKey","metadata":{"name":"k"},"spec":{"keyHash":"nope"}}}}"#
        let answer = try #require(try JSONValue.parse(post(bad, path: "/validate").body)["response"])
        #expect(answer["allowed"] == false)
        #expect(answer[path: "status.message"]?.stringValue?.contains("spec.keyHash") == true)
        let delete = #"{"kind":"AdmissionReview","request":{"uid":"u","operation":"DELETE","oldObject":{}}}"#
        #expect(try JSONValue.parse(post(delete, path: "/validate").body)[path: "response.allowed"] == true)
    }
}

@Suite struct CertificateTests {
    @Test func servingCertificateIsSignedByTheCAAndCarriesTheNames() throws {
        let ca = try CertificateAuthority.makeCA(validity: 3600)
        let serving = try CertificateAuthority.issueServing(dnsNames: ["llmesh-operator.llmesh-system.svc"], ipAddresses: ["127.0.0.1", "::1"], ca: ca, validity: 600)
        #expect(serving.notAfter <= ca.notAfter)
        #expect(serving.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let reloaded = try CertificateAuthority.load(certificatePEM: serving.certificatePEM, privateKeyPEM: serving.privateKeyPEM)
        #expect(abs(reloaded.notAfter.timeIntervalSince(serving.notAfter)) < 1)
        #expect(throws: (any Error).self) { _ = try CertificateAuthority.issueServing(dnsNames: [], ipAddresses: ["not-an-ip"], ca: ca) }
        #expect(throws: (any Error).self) { _ = try CertificateAuthority.load(certificatePEM: "garbage", privateKeyPEM: serving.privateKeyPEM) }
    }

    @Test func remainingShareDrivesRenewal() throws {
        let now = Date()
        // Validity starts five minutes early (clock skew), so the whole life is 9,300 s here.
        let certificate = try CertificateAuthority.makeCA(validity: 9000, now: now)
        #expect(certificate.remainingShare(at: now) > 0.9)
        #expect(certificate.remainingShare(at: now.addingTimeInterval(6500)) < 1.0 / 3.0)
        #expect(certificate.remainingShare(at: now.addingTimeInterval(10_000)) == 0)
    }
}
