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

/// The TLS listener every sidecar gets, and Bedrock bearer mode (`llmesh.io/bedrock-auth: bearer`).
@Suite struct BedrockBearerInjectionTests {
    static let settings = SidecarInjectorTests.settings

    static func injected(_ pod: JSONValue, settings: InjectionSettings = settings) throws -> (pod: JSONValue, result: InjectionResult) {
        let result = SidecarInjector.inject(pod: pod, namespace: "shop", settings: settings)
        return (try SidecarInjectorTests.apply(result.patch, to: pod), result)
    }

    /// A container's env entries by name.
    static func env(_ container: JSONValue?) -> [String: JSONValue] {
        Dictionary((container?["env"]?.arrayValue ?? []).compactMap { e in e["name"]?.stringValue.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
    }

    static func mounts(_ container: JSONValue?, of volume: String) -> [JSONValue] {
        (container?["volumeMounts"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == volume }
    }

    static func sidecar(_ pod: JSONValue) -> JSONValue? {
        ((pod[path: "spec.initContainers"]?.arrayValue ?? []) + (pod[path: "spec.containers"]?.arrayValue ?? [])).first { $0["name"] == "llmesh-sidecar" }
    }

    @Test func everySidecarGetsTheTLSListenerAndItsDirectory() throws {
        let (pod, _) = try Self.injected(SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]]))
        let sidecar = try #require(Self.sidecar(pod))
        let args = sidecar["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let listen = try #require(args.firstIndex(of: "--tls-listen"))
        #expect(args[listen + 1] == "127.0.0.1:15443")
        let directory = try #require(args.firstIndex(of: "--tls-dir"))
        #expect(args[directory + 1] == "/var/run/llmesh/tls")
        let mount = try #require(Self.mounts(sidecar, of: "llmesh-tls").first)
        #expect(mount["mountPath"] == "/var/run/llmesh/tls" && mount["readOnly"] == nil, "the sidecar writes the CA files")
        #expect(sidecar["ports"]?.arrayValue?.contains { $0["containerPort"] == 15443 } == true)
        let volume = try #require(pod[path: "spec.volumes"]?.arrayValue?.first { $0["name"] == "llmesh-tls" })
        #expect(volume[path: "emptyDir.medium"] == "Memory" && volume[path: "emptyDir.sizeLimit"] == "1Mi")
        let app = pod[path: "spec.containers"]?.arrayValue?.first
        #expect(Self.mounts(app, of: "llmesh-tls").isEmpty, "without bearer mode the app does not see the CA files")
        #expect(Self.env(app)["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "http://127.0.0.1:15080")
        #expect(Self.env(app)["AWS_CA_BUNDLE"] == nil && Self.env(app)["AWS_BEARER_TOKEN_BEDROCK"] == nil)

        var settings = Self.settings
        settings.tlsPort = 16443
        let (moved, _) = try Self.injected(SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]], annotations: ["llmesh.io/bedrock-auth": "bearer"]), settings: settings)
        #expect(Self.sidecar(moved)?["args"]?.arrayValue?.contains("127.0.0.1:16443") == true)
        #expect(Self.env(moved[path: "spec.containers"]?.arrayValue?.first)["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "https://127.0.0.1:16443")
    }

    @Test func bearerModeWithWorkloadIdentityPointsTheAWSSDKAtTheTLSListener() throws {
        let original = SidecarInjectorTests.pod(["containers": [
            ["name": "app", "image": "python", "volumeMounts": [["name": "data", "mountPath": "/data"]]],
            ["name": "worker", "image": "python", "env": [["name": "AWS_CA_BUNDLE", "value": "/etc/mine/bundle.pem"]]],
        ], "volumes": [["name": "data", "emptyDir": [:]]]], annotations: ["llmesh.io/bedrock-auth": "bearer"])
        let (pod, result) = try Self.injected(original)
        #expect(result.warnings.isEmpty)
        let containers = try #require(pod[path: "spec.containers"]?.arrayValue)
        let app = Self.env(containers[0])
        #expect(app["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "https://127.0.0.1:15443")
        #expect(app["AWS_CA_BUNDLE"]?["value"] == "/var/run/llmesh/tls/ca-bundle.crt")
        #expect(app["AWS_BEARER_TOKEN_BEDROCK"]?["value"] == "llmesh-workload-identity")
        #expect(app["OPENAI_BASE_URL"]?["value"] == "http://127.0.0.1:15080/v1", "the other SDKs stay on the plain listener")
        let worker = Self.env(containers[1])
        #expect(worker["AWS_CA_BUNDLE"]?["value"] == "/etc/mine/bundle.pem", "an app's own CA bundle wins")
        #expect(worker["AWS_BEARER_TOKEN_BEDROCK"]?["value"] == "llmesh-workload-identity")
        for container in containers {
            let mounts = Self.mounts(container, of: "llmesh-tls")
            #expect(mounts.count == 1 && mounts.first?["readOnly"] == true && mounts.first?["mountPath"] == "/var/run/llmesh/tls")
        }
        #expect(containers[0]["volumeMounts"]?.arrayValue?.count == 2, "the app's own mounts stay")
        #expect(pod[path: "spec.volumes"]?.arrayValue?.filter { $0["name"] == "llmesh-tls" }.count == 1)

        let again = SidecarInjector.inject(pod: pod, namespace: "shop", settings: Self.settings)
        #expect(again.patch.isEmpty && again.skipped == "already injected")
    }

    @Test func bearerTokenFromASecretIsASecretKeyRef() throws {
        let original = SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]], annotations: [
            "llmesh.io/bedrock-auth": "bearer", "llmesh.io/bedrock-bearer-secret": "team-a-key/virtual-key",
        ])
        let (pod, result) = try Self.injected(original)
        #expect(result.warnings.isEmpty)
        let token = try #require(Self.env(pod[path: "spec.containers"]?.arrayValue?.first)["AWS_BEARER_TOKEN_BEDROCK"])
        #expect(token["value"] == nil)
        #expect(token[path: "valueFrom.secretKeyRef"] == ["name": "team-a-key", "key": "virtual-key"])
        #expect(Self.env(Self.sidecar(pod))["AWS_BEARER_TOKEN_BEDROCK"] == nil, "the sidecar never gets the key")
    }

    @Test(arguments: ["team-a-key", "Team_A/key", "a/b/c", "/key", "name/", "name/bad key"])
    func unreadableSecretAnnotationWarnsAndLeavesBearerModeOff(secret: String) throws {
        let original = SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]], annotations: [
            "llmesh.io/bedrock-auth": "bearer", "llmesh.io/bedrock-bearer-secret": secret,
        ])
        let (pod, result) = try Self.injected(original)
        #expect(result.warnings.contains { $0.contains("llmesh.io/bedrock-bearer-secret") && $0.contains(secret) })
        let app = pod[path: "spec.containers"]?.arrayValue?.first
        #expect(Self.env(app)["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "http://127.0.0.1:15080")
        #expect(Self.env(app)["AWS_BEARER_TOKEN_BEDROCK"] == nil && Self.mounts(app, of: "llmesh-tls").isEmpty)
    }

    @Test(arguments: ["sigv4", "Bearer", "true", ""])
    func otherBedrockAuthValuesWarnAndChangeNothingOfBearerMode(value: String) throws {
        let original = SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]], annotations: ["llmesh.io/bedrock-auth": value])
        let (pod, result) = try Self.injected(original)
        #expect(result.skipped == nil, "the pod is still injected")
        #expect(result.warnings.contains { $0.contains("llmesh.io/bedrock-auth=\(value)") && $0.contains("bearer") })
        let app = pod[path: "spec.containers"]?.arrayValue?.first
        #expect(Self.env(app)["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "http://127.0.0.1:15080")
        #expect(Self.env(app)["AWS_CA_BUNDLE"] == nil && Self.env(app)["AWS_BEARER_TOKEN_BEDROCK"] == nil)
        #expect(Self.mounts(app, of: "llmesh-tls").isEmpty)
        let lone = SidecarInjector.inject(pod: SidecarInjectorTests.pod(["containers": [["name": "a", "image": "b"]]], annotations: ["llmesh.io/bedrock-bearer-secret": "k/v"]), namespace: "x", settings: Self.settings)
        #expect(lone.warnings.contains { $0.contains("needs llmesh.io/bedrock-auth") })
    }

    @Test func existingAndOptedOutVariablesAreNotTouchedAndTheTokenFollowsTheEndpoint() throws {
        let original = SidecarInjectorTests.pod(["containers": [
            ["name": "own-endpoint", "image": "python", "env": [["name": "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "value": "https://bedrock-runtime.eu-west-1.amazonaws.com"]]],
            ["name": "own-token", "image": "python", "env": [["name": "AWS_BEARER_TOKEN_BEDROCK", "valueFrom": ["secretKeyRef": ["name": "mine", "key": "k"]]]]],
            ["name": "plain", "image": "python"],
        ]], annotations: ["llmesh.io/bedrock-auth": "bearer", "llmesh.io/skip-env": "AWS_CA_BUNDLE"])
        let (pod, _) = try Self.injected(original)
        let containers = try #require(pod[path: "spec.containers"]?.arrayValue)
        let ownEndpoint = Self.env(containers[0])
        #expect(ownEndpoint["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "https://bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(ownEndpoint["AWS_BEARER_TOKEN_BEDROCK"] == nil, "the token goes only where the endpoint is the sidecar's")
        let ownToken = Self.env(containers[1])
        #expect(ownToken["AWS_BEARER_TOKEN_BEDROCK"]?[path: "valueFrom.secretKeyRef.name"] == "mine")
        #expect(ownToken["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]?["value"] == "https://127.0.0.1:15443")
        #expect(containers[1]["env"]?.arrayValue?.filter { $0["name"] == "AWS_BEARER_TOKEN_BEDROCK" }.count == 1)
        for container in containers { #expect(Self.env(container)["AWS_CA_BUNDLE"] == nil, "opted out with llmesh.io/skip-env") }
        #expect(Self.env(containers[2])["AWS_BEARER_TOKEN_BEDROCK"]?["value"] == "llmesh-workload-identity")

        let skipEndpoint = SidecarInjectorTests.pod(["containers": [["name": "a", "image": "b"]]], annotations: ["llmesh.io/bedrock-auth": "bearer", "llmesh.io/skip-env": "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"])
        let skipped = Self.env(try Self.injected(skipEndpoint).pod[path: "spec.containers"]?.arrayValue?.first)
        #expect(skipped["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == nil && skipped["AWS_BEARER_TOKEN_BEDROCK"] == nil)
        #expect(skipped["AWS_CA_BUNDLE"]?["value"] == "/var/run/llmesh/tls/ca-bundle.crt")
    }

    @Test func optedOutAndHostNetworkBearerPodsAreUntouched() {
        let bearer = ["llmesh.io/bedrock-auth": "bearer"]
        let optedOut = SidecarInjectorTests.pod(["containers": [["name": "a", "image": "b"]]], labels: ["llmesh.io/inject": "false"], annotations: bearer)
        #expect(SidecarInjector.inject(pod: optedOut, namespace: "x", settings: Self.settings).patch.isEmpty)
        let host = SidecarInjectorTests.pod(["hostNetwork": true, "containers": [["name": "a", "image": "b"]]], annotations: bearer)
        #expect(SidecarInjector.inject(pod: host, namespace: "x", settings: Self.settings).patch.isEmpty)
    }

    @Test func fallbackSidecarHoldsTheAppUntilTheBundleIsWritten() throws {
        var settings = Self.settings
        settings.nativeSidecar = false
        let original = SidecarInjectorTests.pod(["containers": [["name": "app", "image": "python"]]], annotations: ["llmesh.io/bedrock-auth": "bearer"])
        let (pod, _) = try Self.injected(original, settings: settings)
        let containers = try #require(pod[path: "spec.containers"]?.arrayValue)
        #expect(containers.map { $0["name"]?.stringValue } == ["llmesh-sidecar", "app"])
        // The postStart hook waits for /readyz, which the sidecar reports only after writing the CA files.
        #expect(containers[0][path: "lifecycle.postStart.exec.command"]?.arrayValue?.contains("http://127.0.0.1:15090/readyz") == true)
        #expect(Self.env(containers[1])["AWS_CA_BUNDLE"]?["value"] == "/var/run/llmesh/tls/ca-bundle.crt")
        #expect(Self.mounts(containers[1], of: "llmesh-tls").first?["readOnly"] == true)
        #expect(Self.mounts(containers[0], of: "llmesh-tls").first?["readOnly"] == nil)
    }

    @Test func workloadIdentityEnvAndTokenMountsAreCopiedToTheSidecarAndKeptInTheApp() throws {
        let irsa: JSONValue = ["name": "app", "image": "python",
            "env": [["name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/llm"], ["name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"],
                    ["name": "AWS_REGION", "value": "eu-west-1"], ["name": "APP_ONLY", "value": "1"]],
            "volumeMounts": [["name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": true], ["name": "data", "mountPath": "/data"]]]
        let podIdentity: JSONValue = ["name": "worker", "image": "python",
            "env": [["name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"],
                    ["name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"]],
            "volumeMounts": [["name": "eks-pod-identity-token", "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount", "readOnly": true]]]
        let original = SidecarInjectorTests.pod(["containers": [irsa, podIdentity], "volumes": [
            ["name": "aws-iam-token", "projected": ["sources": [["serviceAccountToken": ["audience": "sts.amazonaws.com", "path": "token"]]]]],
            ["name": "eks-pod-identity-token", "projected": ["sources": [["serviceAccountToken": ["audience": "pods.eks.amazonaws.com", "path": "eks-pod-identity-token"]]]]],
            ["name": "data", "emptyDir": [:]],
        ]], annotations: ["llmesh.io/bedrock-auth": "bearer"])
        let (pod, _) = try Self.injected(original)
        let sidecar = try #require(Self.sidecar(pod))
        let sidecarEnv = Self.env(sidecar)
        for variable in ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            #expect(sidecarEnv[variable] != nil, "\(variable)")
        }
        #expect(sidecarEnv["APP_ONLY"] == nil && sidecarEnv["AWS_BEARER_TOKEN_BEDROCK"] == nil && sidecarEnv["AWS_CA_BUNDLE"] == nil)
        #expect(Self.mounts(sidecar, of: "aws-iam-token").count == 1 && Self.mounts(sidecar, of: "eks-pod-identity-token").count == 1)
        #expect(Self.mounts(sidecar, of: "data").isEmpty)
        let app = pod[path: "spec.containers"]?.arrayValue?.first
        #expect(Self.env(app)["AWS_ROLE_ARN"] != nil && Self.mounts(app, of: "aws-iam-token").count == 1, "the injector only adds: the app keeps its IRSA settings")
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

    @Test func renewalIsDueWithAThirdOfTheIssuedLifetimeLeft() throws {
        let now = Date()
        let certificate = try CertificateAuthority.makeCA(validity: 9000, now: now)
        #expect(!certificate.isDueForRenewal(at: now, lifetime: 9000))
        #expect(!certificate.isDueForRenewal(at: now.addingTimeInterval(5900), lifetime: 9000))
        #expect(certificate.isDueForRenewal(at: now.addingTimeInterval(6100), lifetime: 9000))
        #expect(certificate.isDueForRenewal(at: now.addingTimeInterval(10_000), lifetime: 9000))
    }

    @Test func aShortLivedCertificateIsNotDueWhenIssued() throws {
        // Validity starts five minutes early for clock skew; that must not make a 6 s certificate look spent at once.
        // (X.509 times are whole seconds, so the certificate may end up to a second early.)
        let now = Date()
        let certificate = try CertificateAuthority.makeCA(validity: 6, now: now)
        #expect(certificate.notBefore < now.addingTimeInterval(-CertificateAuthority.clockSkewAllowance + 1))
        #expect(!certificate.isDueForRenewal(at: now, lifetime: 6))
        #expect(!certificate.isDueForRenewal(at: now.addingTimeInterval(2.5), lifetime: 6))
        #expect(certificate.isDueForRenewal(at: now.addingTimeInterval(5), lifetime: 6))
    }
}
