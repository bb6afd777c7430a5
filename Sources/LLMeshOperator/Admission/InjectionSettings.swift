import LLMeshKube

/// What the injector adds to a pod: the sidecar's image, ports and resources, and how it reaches the operator.
public struct InjectionSettings: Sendable {
    public var image: String
    public var imagePullPolicy = "IfNotPresent"
    /// The operator's snapshot service as sidecars reach it, for example `https://llmesh-operator.llmesh-system.svc:8443`.
    public var operatorURL: String
    /// A ConfigMap in the pod's namespace holding `ca.crt` of the operator's CA; `nil` trusts the system roots.
    public var operatorCAConfigMap: String?
    public var appPort = 15080
    public var adminPort = 15090
    /// The sidecar's loopback HTTPS app listener (`--tls-listen`), which Bedrock bearer mode points the AWS SDK at.
    public var tlsPort = 15443
    public var logLevel = "info"
    /// A native sidecar (an init container with `restartPolicy: Always`, Kubernetes 1.29+), else a first regular
    /// container whose `postStart` hook holds the app until the sidecar is ready.
    public var nativeSidecar = true
    public var cpuRequest = "50m"
    public var memoryRequest = "32Mi"
    public var cpuLimit: String? = nil
    public var memoryLimit: String? = "128Mi"
    public var runAsUser = 65532
    public var tokenExpirationSeconds = 3600

    public init(image: String, operatorURL: String) {
        self.image = image
        self.operatorURL = operatorURL
    }

    /// Names shared by the injector, the chart and the docs.
    public enum Names {
        public static let container = "llmesh-sidecar"
        public static let injectLabel = "llmesh.io/inject"
        public static let injectedAnnotation = "llmesh.io/injected"
        public static let skipEnvAnnotation = "llmesh.io/skip-env"
        public static let logLevelAnnotation = "llmesh.io/log-level"
        /// `bearer` points the AWS SDK at the sidecar's HTTPS listener with `AWS_BEARER_TOKEN_BEDROCK`.
        public static let bedrockAuthAnnotation = "llmesh.io/bedrock-auth"
        /// `NAME/KEY` of a Secret holding a virtual key, sent as the Bedrock bearer token.
        public static let bedrockBearerSecretAnnotation = "llmesh.io/bedrock-bearer-secret"
        /// The bearer token of bearer mode without a Secret: the sidecar then identifies the caller by the pod.
        public static let workloadIdentityBearerToken = "llmesh-workload-identity"
        public static let tokenVolume = "llmesh-operator-token"
        public static let snapshotVolume = "llmesh-snapshot"
        public static let podInfoVolume = "llmesh-podinfo"
        public static let caVolume = "llmesh-operator-ca"
        /// The sidecar's local CA and CA bundle (written by the sidecar, read by app containers in bearer mode).
        public static let tlsVolume = "llmesh-tls"
        public static let tokenDirectory = "/var/run/secrets/llmesh.io/operator"
        public static let snapshotDirectory = "/var/run/llmesh/snapshot"
        public static let podInfoDirectory = "/etc/llmesh/podinfo"
        public static let caDirectory = "/etc/llmesh/operator-ca"
        public static let tlsDirectory = "/var/run/llmesh/tls"
        /// `AWS_CA_BUNDLE` in bearer mode: the system roots plus the sidecar's local CA.
        public static let caBundleFile = "/var/run/llmesh/tls/ca-bundle.crt"
        /// Per-pod resource overrides: `llmesh.io/sidecar-cpu-request` and the like.
        public static let resourceAnnotations = [
            "llmesh.io/sidecar-cpu-request": ("requests", "cpu"), "llmesh.io/sidecar-memory-request": ("requests", "memory"),
            "llmesh.io/sidecar-cpu-limit": ("limits", "cpu"), "llmesh.io/sidecar-memory-limit": ("limits", "memory"),
        ]
    }
}
