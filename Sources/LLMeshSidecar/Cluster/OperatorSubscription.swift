import NIOSSL

/// Where a sidecar in cluster mode gets its policy: the operator's snapshot service.
public struct OperatorSubscription: Sendable, Hashable {
    /// Base URL of the operator, for example `https://llmesh-operator.llmesh-system.svc:8443`.
    public var url: String
    /// The namespace whose snapshot this sidecar enforces (its pod's namespace).
    public var namespace: String
    /// The projected service-account token (audience `llmesh.io/operator`), re-read on every request.
    public var tokenFile: String
    /// PEM of the CA that signs the operator's certificate; `nil` uses the system roots.
    public var caFile: String?
    /// The same CA as PEM text (the injector passes it in `LLMESH_OPERATOR_CA`); used when `caFile` is not set.
    public var caPEM: String?
    /// Directory where the last good snapshot is kept, so a restart while the operator is down still serves it.
    public var cacheDirectory: String?
    /// How long the operator may hold one long-poll open.
    public var pollTimeout: Duration = .seconds(30)
    /// First and largest wait between failed attempts (full jitter).
    public var retryInitial: Duration = .milliseconds(500)
    public var retryMaximum: Duration = .seconds(30)

    public init(url: String, namespace: String, tokenFile: String, caFile: String? = nil, cacheDirectory: String? = nil) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.namespace = namespace
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.cacheDirectory = cacheDirectory
    }

    /// TLS settings for talking to the operator: its CA when given, else the system roots.
    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        } else if let caPEM, !caPEM.isEmpty {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        }
        return tls
    }

    /// The cache file of the last good snapshot.
    var cacheFile: String? { cacheDirectory.map { "\($0)/snapshot.json" } }
}
