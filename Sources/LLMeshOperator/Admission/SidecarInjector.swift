import Foundation
import LLMeshKube

/// What the injector decided for one pod.
public struct InjectionResult: Sendable {
    /// RFC 6902 operations; empty when the pod is left alone.
    public var patch: [JSONValue]
    public var warnings: [String]
    /// Why the pod is left alone, when it is.
    public var skipped: String?
}

/// Adds the llmesh sidecar to a pod and points its app containers' SDKs at it.
///
/// Pure: a pod in, JSON patch operations out. Opting in is the webhook configuration's job (namespace and pod label
/// selectors); this type skips pods that opt out, `hostNetwork` pods (their loopback is the node's), and pods that
/// already have the sidecar, so a re-invocation changes nothing.
public enum SidecarInjector {
    /// The SDK variables set in app containers, each as its env entry; `bearer` is the token's entry in bearer mode.
    static func sdkEnvironment(_ settings: InjectionSettings, bearer: JSONValue? = nil) -> [(name: String, entry: JSONValue)] {
        func literal(_ name: String, _ value: String) -> (name: String, entry: JSONValue) {
            (name, ["name": .string(name), "value": .string(value)])
        }
        var environment = [
            literal("OPENAI_BASE_URL", "http://127.0.0.1:\(settings.appPort)/v1"),
            literal("ANTHROPIC_BASE_URL", "http://127.0.0.1:\(settings.appPort)"),
        ]
        guard var bearer else {
            environment.append(literal("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:\(settings.appPort)"))
            return environment
        }
        bearer["name"] = "AWS_BEARER_TOKEN_BEDROCK"
        environment += [
            literal("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bearerEndpoint(settings)),
            literal("AWS_CA_BUNDLE", InjectionSettings.Names.caBundleFile),
            ("AWS_BEARER_TOKEN_BEDROCK", bearer),
        ]
        return environment
    }

    /// The sidecar's HTTPS listener as the AWS SDK reaches it in bearer mode.
    static func bearerEndpoint(_ settings: InjectionSettings) -> String { "https://127.0.0.1:\(settings.tlsPort)" }

    public static func inject(pod: JSONValue, namespace: String, settings: InjectionSettings, operatorCA: String? = nil) -> InjectionResult {
        let labels = pod[path: "metadata.labels"]?.stringMap ?? [:]
        let annotations = pod[path: "metadata.annotations"]?.stringMap ?? [:]
        let name = InjectionSettings.Names.self
        if labels[name.injectLabel] == "false" || annotations[name.injectLabel] == "false" {
            return InjectionResult(patch: [], warnings: [], skipped: "opted out with \(name.injectLabel)=false")
        }
        if pod[path: "spec.hostNetwork"]?.boolValue == true {
            return InjectionResult(patch: [], warnings: ["llmesh: hostNetwork pods are not injected (their loopback is the node's)"], skipped: "hostNetwork")
        }
        let containers = pod[path: "spec.containers"]?.arrayValue ?? []
        let initContainers = pod[path: "spec.initContainers"]?.arrayValue ?? []
        if annotations[name.injectedAnnotation] == "true" || (containers + initContainers).contains(where: { $0["name"]?.stringValue == name.container }) {
            return InjectionResult(patch: [], warnings: [], skipped: "already injected")
        }
        guard !containers.isEmpty else { return InjectionResult(patch: [], warnings: ["llmesh: pod has no containers"], skipped: "no containers") }

        var patch: [JSONValue] = []
        var warnings: [String] = []
        let bearer = bedrockBearerToken(annotations, warnings: &warnings)
        if pod[path: "metadata.annotations"] == nil {
            patch.append(add("/metadata/annotations", [:]))
        }
        patch.append(add("/metadata/annotations/" + escape(name.injectedAnnotation), "true"))

        // Volumes: the operator token (sidecar only), the snapshot cache, the pod's labels, the sidecar's local CA files,
        // the operator's CA.
        var volumes: [JSONValue] = [
            ["name": .string(name.tokenVolume), "projected": ["sources": [["serviceAccountToken": [
                "audience": .string(OperatorAudience.value), "expirationSeconds": .number(Double(settings.tokenExpirationSeconds)), "path": "token",
            ]]]]],
            ["name": .string(name.snapshotVolume), "emptyDir": ["medium": "Memory", "sizeLimit": "16Mi"]],
            ["name": .string(name.podInfoVolume), "downwardAPI": ["items": [["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]]]]],
            ["name": .string(name.tlsVolume), "emptyDir": ["medium": "Memory", "sizeLimit": "1Mi"]],
        ]
        if let configMap = settings.operatorCAConfigMap {
            volumes.append(["name": .string(name.caVolume), "configMap": ["name": .string(configMap)]])
        }
        if pod[path: "spec.volumes"] == nil {
            patch.append(add("/spec/volumes", .array(volumes)))
        } else {
            let existing = Set((pod[path: "spec.volumes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            for volume in volumes where !existing.contains(volume["name"]?.stringValue ?? "") {
                patch.append(add("/spec/volumes/-", volume))
            }
        }

        var sidecar = sidecarContainer(settings, annotations: annotations, warnings: &warnings)
        if let operatorCA, settings.operatorCAConfigMap == nil {
            sidecar["env"] = .array((sidecar["env"]?.arrayValue ?? []) + [["name": "LLMESH_OPERATOR_CA", "value": .string(operatorCA)]])
        }
        Self.copyWorkloadIdentity(from: containers, into: &sidecar)
        if settings.nativeSidecar {
            sidecar["restartPolicy"] = "Always"
            if pod[path: "spec.initContainers"] == nil {
                patch.append(add("/spec/initContainers", [sidecar]))
            } else {
                patch.append(add("/spec/initContainers/0", sidecar))
            }
        } else {
            sidecar["lifecycle"] = ["postStart": ["exec": ["command": [
                "/usr/local/bin/llmesh", "wait-ready", "--url", .string("http://127.0.0.1:\(settings.adminPort)/readyz"), "--timeout", "60s",
            ]]]]
            patch.append(add("/spec/containers/0", sidecar))
        }

        // App containers: point the SDKs at the sidecar unless they say otherwise. Indices shift by one when the
        // sidecar went in front of the containers.
        let skipped = Set((annotations[name.skipEnvAnnotation] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let offset = settings.nativeSidecar ? 0 : 1
        let caMount: JSONValue = ["name": .string(name.tlsVolume), "mountPath": .string(name.tlsDirectory), "readOnly": true]
        for (index, container) in containers.enumerated() {
            let path = "/spec/containers/\(index + offset)"
            let existing = container["env"]?.arrayValue ?? []
            let present = Dictionary(existing.compactMap { entry in entry["name"]?.stringValue.map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
            var wanted = sdkEnvironment(settings, bearer: bearer).filter { present[$0.name] == nil && !skipped.contains($0.name) }
            // The bearer token is for the sidecar only: a container whose Bedrock endpoint is its own (or opted out)
            // gets none.
            let endpointVariable = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
            let endpoint = wanted.contains { $0.name == endpointVariable } ? bearerEndpoint(settings) : present[endpointVariable]?["value"]?.stringValue
            if endpoint != bearerEndpoint(settings) { wanted.removeAll { $0.name == "AWS_BEARER_TOKEN_BEDROCK" } }
            if !wanted.isEmpty {
                let entries = wanted.map(\.entry)
                if container["env"] == nil {
                    patch.append(add("\(path)/env", .array(entries)))
                } else {
                    for entry in entries { patch.append(add("\(path)/env/-", entry)) }
                }
            }
            // Bearer mode: the CA files, read-only, in every app container (also those with a CA bundle of their own,
            // which then need the llmesh CA, ca.crt, in it).
            guard bearer != nil else { continue }
            let mounts = container["volumeMounts"]?.arrayValue ?? []
            guard !mounts.contains(where: { $0["name"]?.stringValue == name.tlsVolume || $0["mountPath"]?.stringValue == name.tlsDirectory }) else { continue }
            patch.append(container["volumeMounts"] == nil ? add("\(path)/volumeMounts", [caMount]) : add("\(path)/volumeMounts/-", caMount))
        }
        return InjectionResult(patch: patch, warnings: warnings, skipped: nil)
    }

    private static func sidecarContainer(_ settings: InjectionSettings, annotations: [String: String], warnings: inout [String]) -> JSONValue {
        let name = InjectionSettings.Names.self
        let logLevel = annotations[name.logLevelAnnotation] ?? settings.logLevel
        var requests: [String: JSONValue] = ["cpu": .string(settings.cpuRequest), "memory": .string(settings.memoryRequest)]
        var limits: [String: JSONValue] = [:]
        if let cpu = settings.cpuLimit { limits["cpu"] = .string(cpu) }
        if let memory = settings.memoryLimit { limits["memory"] = .string(memory) }
        for (annotation, (section, resource)) in name.resourceAnnotations {
            guard let value = annotations[annotation] else { continue }
            guard ResourceQuantity.isValid(value) else {
                warnings.append("llmesh: ignored \(annotation)=\(value): not a Kubernetes quantity")
                continue
            }
            if section == "requests" { requests[resource] = .string(value) } else { limits[resource] = .string(value) }
        }
        var resources: [String: JSONValue] = ["requests": .object(requests)]
        if !limits.isEmpty { resources["limits"] = .object(limits) }
        let readyz: JSONValue = ["httpGet": ["path": "/readyz", "port": .number(Double(settings.adminPort))], "periodSeconds": 1, "failureThreshold": 60]
        var mounts: [JSONValue] = [
            ["name": .string(name.tokenVolume), "mountPath": .string(name.tokenDirectory), "readOnly": true],
            ["name": .string(name.snapshotVolume), "mountPath": .string(name.snapshotDirectory)],
            ["name": .string(name.podInfoVolume), "mountPath": .string(name.podInfoDirectory), "readOnly": true],
            ["name": .string(name.tlsVolume), "mountPath": .string(name.tlsDirectory)],
        ]
        var args: [JSONValue] = [
            "sidecar", "--operator-url", .string(settings.operatorURL), "--operator-token-file", .string("\(name.tokenDirectory)/token"),
            "--snapshot-cache", .string(name.snapshotDirectory), "--listen", .string("127.0.0.1:\(settings.appPort)"),
            "--admin-listen", .string("0.0.0.0:\(settings.adminPort)"), "--log-level", .string(logLevel),
            "--tls-listen", .string("127.0.0.1:\(settings.tlsPort)"), "--tls-dir", .string(name.tlsDirectory),
        ]
        if settings.operatorCAConfigMap != nil {
            mounts.append(["name": .string(name.caVolume), "mountPath": .string(name.caDirectory), "readOnly": true])
            args += ["--operator-ca-file", .string("\(name.caDirectory)/ca.crt")]
        }
        func field(_ path: String) -> JSONValue { ["valueFrom": ["fieldRef": ["fieldPath": .string(path)]]] }
        var env: [JSONValue] = []
        for (variable, path) in [("POD_NAME", "metadata.name"), ("LLMESH_POD_NAMESPACE", "metadata.namespace"), ("LLMESH_POD_SERVICE_ACCOUNT", "spec.serviceAccountName"), ("NODE_NAME", "spec.nodeName")] {
            var entry = field(path)
            entry["name"] = .string(variable)
            env.append(entry)
        }
        env.append(["name": "LLMESH_POD_LABELS", "value": .string("\(name.podInfoDirectory)/labels")])
        return [
            "name": .string(name.container), "image": .string(settings.image), "imagePullPolicy": .string(settings.imagePullPolicy),
            "args": .array(args), "env": .array(env),
            "ports": [
                ["name": "llmesh-app", "containerPort": .number(Double(settings.appPort)), "protocol": "TCP"],
                ["name": "llmesh-admin", "containerPort": .number(Double(settings.adminPort)), "protocol": "TCP"],
                ["name": "llmesh-tls", "containerPort": .number(Double(settings.tlsPort)), "protocol": "TCP"],
            ],
            "startupProbe": readyz, "readinessProbe": ["httpGet": ["path": "/readyz", "port": .number(Double(settings.adminPort))], "periodSeconds": 5],
            "resources": .object(resources),
            "securityContext": [
                "runAsNonRoot": true, "runAsUser": .number(Double(settings.runAsUser)), "runAsGroup": .number(Double(settings.runAsUser)),
                "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
                "capabilities": ["drop": ["ALL"]], "seccompProfile": ["type": "RuntimeDefault"],
            ],
            "volumeMounts": .array(mounts),
        ]
    }

    /// IRSA and Pod Identity: the pod's AWS identity env and token mounts, copied from the app containers to the
    /// sidecar, which is the one that signs Bedrock requests. The app containers keep theirs (the injector only adds);
    /// the EKS webhook's `eks.amazonaws.com/skip-containers` annotation keeps them out of an app. When the EKS webhook
    /// runs after this one, it sets them in the sidecar itself (it mutates init containers too), and this copy finds
    /// nothing to do.
    private static func copyWorkloadIdentity(from containers: [JSONValue], into sidecar: inout JSONValue) {
        let variables = ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS",
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
        let tokenVolumes: Set<String> = ["aws-iam-token", "eks-pod-identity-token"]
        var env = sidecar["env"]?.arrayValue ?? []
        var mounts = sidecar["volumeMounts"]?.arrayValue ?? []
        var seenEnv = Set(env.compactMap { $0["name"]?.stringValue })
        var seenMounts = Set(mounts.compactMap { $0["name"]?.stringValue })
        for container in containers {
            for entry in container["env"]?.arrayValue ?? [] {
                guard let variable = entry["name"]?.stringValue, variables.contains(variable), seenEnv.insert(variable).inserted else { continue }
                env.append(entry)
            }
            for mount in container["volumeMounts"]?.arrayValue ?? [] {
                guard let volume = mount["name"]?.stringValue, tokenVolumes.contains(volume), seenMounts.insert(volume).inserted else { continue }
                mounts.append(mount)
            }
        }
        sidecar["env"] = .array(env)
        sidecar["volumeMounts"] = .array(mounts)
    }

    /// Bearer mode's `AWS_BEARER_TOKEN_BEDROCK` entry without its name (a literal or a `secretKeyRef`), or `nil` when
    /// the pod does not ask for bearer mode or asks in a way this version cannot read (then with a warning).
    static func bedrockBearerToken(_ annotations: [String: String], warnings: inout [String]) -> JSONValue? {
        let name = InjectionSettings.Names.self
        let secret = annotations[name.bedrockBearerSecretAnnotation]
        guard let mode = annotations[name.bedrockAuthAnnotation] else {
            if let secret { warnings.append("llmesh: ignored \(name.bedrockBearerSecretAnnotation)=\(secret): it needs \(name.bedrockAuthAnnotation): bearer") }
            return nil
        }
        guard mode.trimmingCharacters(in: .whitespaces) == "bearer" else {
            warnings.append("llmesh: ignored \(name.bedrockAuthAnnotation)=\(mode): the only value is \"bearer\"")
            return nil
        }
        guard let secret else { return ["value": .string(name.workloadIdentityBearerToken)] }
        let parts = secret.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, KubernetesNames.isSubdomain(parts[0]), KubernetesNames.isSecretKey(parts[1]) else {
            warnings.append("llmesh: ignored \(name.bedrockAuthAnnotation)=bearer: \(name.bedrockBearerSecretAnnotation)=\(secret) is not SECRET-NAME/KEY")
            return nil
        }
        return ["valueFrom": ["secretKeyRef": ["name": .string(parts[0]), "key": .string(parts[1])]]]
    }

    private static func add(_ path: String, _ value: JSONValue) -> JSONValue {
        ["op": "add", "path": .string(path), "value": value]
    }

    /// JSON-pointer escaping of one path segment.
    static func escape(_ segment: String) -> String {
        segment.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// The audience of the token sidecars present to the operator.
public enum OperatorAudience {
    public static let value = "llmesh.io/operator"
}

/// Kubernetes object names and Secret keys, as the API server checks them.
enum KubernetesNames {
    /// A DNS-1123 subdomain (Secret names).
    static func isSubdomain(_ text: String) -> Bool {
        text.count <= 253 && text.range(of: #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#, options: .regularExpression) != nil
    }

    /// A key of a Secret's `data`.
    static func isSecretKey(_ text: String) -> Bool {
        text.count <= 253 && text.range(of: #"^[-._a-zA-Z0-9]+$"#, options: .regularExpression) != nil
    }
}

/// Kubernetes resource quantities (`100m`, `64Mi`, `1.5`, `2G`).
enum ResourceQuantity {
    static func isValid(_ text: String) -> Bool {
        text.range(of: #"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"#, options: .regularExpression) != nil
    }
}
