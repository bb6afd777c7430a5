import Foundation
import Yams

/// How to reach and authenticate to a Kubernetes API server.
public struct KubeConfig: Sendable {
    /// How requests are authenticated.
    public enum Credentials: Sendable, Hashable {
        case none
        /// A fixed bearer token (from a kubeconfig).
        case token(String)
        /// A token file re-read periodically: in-cluster service-account tokens rotate (see ``BearerTokenSource``).
        case tokenFile(String)
        /// A client certificate and key, PEM.
        case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
    }

    /// `https://host:port` or `http://host:port`, without a trailing slash.
    public var server: String
    public var credentials: Credentials
    /// PEM of the CA that signs the server's certificate; `nil` uses the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// The namespace of this process (in cluster) or of the kubeconfig context.
    public var namespace: String

    public init(server: String, credentials: Credentials = .none, certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, namespace: String = "default") {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.credentials = credentials
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
    }

    /// The service-account directory every pod gets.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster configuration, as client-go builds it: `KUBERNETES_SERVICE_HOST`/`_PORT`, the mounted token (re-read
    /// periodically) and CA, and the namespace from `POD_NAMESPACE` or the mounted `namespace` file.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = serviceAccountDirectory) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty, let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubeConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = "\(directory)/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError("the service-account token \(tokenPath) is not readable")
        }
        let ca = FileManager.default.contents(atPath: "\(directory)/ca.crt").map { Array($0) }
        let namespace = environment["POD_NAMESPACE"]
            ?? FileManager.default.contents(atPath: "\(directory)/namespace").flatMap { String(data: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? "default"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(server: "https://\(hostPart):\(port)", credentials: .tokenFile(tokenPath), certificateAuthorityPEM: ca, namespace: namespace)
    }

    /// Reads a kubeconfig file: the current context (or `context`), its cluster and user.
    public static func kubeconfig(path: String, context: String? = nil) throws -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw KubeConfigError("cannot read kubeconfig \(path)") }
        guard data.count <= 4 * 1024 * 1024 else { throw KubeConfigError("kubeconfig \(path) is larger than 4 MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw KubeConfigError("kubeconfig \(path) is not UTF-8") }
        let baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parseKubeconfig(text, context: context, baseDirectory: baseDirectory)
    }

    static func parseKubeconfig(_ text: String, context wanted: String?, baseDirectory: String) throws -> KubeConfig {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw KubeConfigError("kubeconfig is not valid YAML: \(error)") }
        guard let document = root as? [String: Any] else { throw KubeConfigError("kubeconfig is not a mapping") }
        func named(_ list: String, _ name: String, _ field: String) -> [String: Any]? {
            (document[list] as? [[String: Any]])?.first { ($0["name"] as? String) == name }?[field] as? [String: Any]
        }
        guard let contextName = wanted ?? (document["current-context"] as? String), !contextName.isEmpty else {
            throw KubeConfigError("kubeconfig has no current-context and none was given")
        }
        guard let context = named("contexts", contextName, "context") else { throw KubeConfigError("kubeconfig has no context \"\(contextName)\"") }
        guard let clusterName = context["cluster"] as? String, let cluster = named("clusters", clusterName, "cluster") else {
            throw KubeConfigError("context \"\(contextName)\" names no known cluster")
        }
        guard let server = cluster["server"] as? String, server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw KubeConfigError("cluster \"\(clusterName)\" has no http(s) server")
        }
        func file(_ value: Any?) throws -> [UInt8]? {
            guard let path = value as? String else { return nil }
            let full = path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
            guard let data = FileManager.default.contents(atPath: full) else { throw KubeConfigError("cannot read \(full) named by the kubeconfig") }
            return Array(data)
        }
        func inline(_ value: Any?) throws -> [UInt8]? {
            guard let text = value as? String else { return nil }
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else { throw KubeConfigError("kubeconfig holds invalid base64 data") }
            return Array(data)
        }
        let ca = try inline(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"])
        let insecure = cluster["insecure-skip-tls-verify"] as? Bool ?? false
        var credentials = Credentials.none
        if let userName = context["user"] as? String, let user = named("users", userName, "user") {
            if let token = user["token"] as? String {
                credentials = .token(token)
            } else if let tokenFile = user["tokenFile"] as? String {
                credentials = .tokenFile(tokenFile.hasPrefix("/") ? tokenFile : "\(baseDirectory)/\(tokenFile)")
            } else if let certificate = try inline(user["client-certificate-data"]) ?? file(user["client-certificate"]),
                let key = try inline(user["client-key-data"]) ?? file(user["client-key"])
            {
                credentials = .clientCertificate(certificatePEM: certificate, keyPEM: key)
            } else if user["exec"] != nil || user["auth-provider"] != nil {
                throw KubeConfigError("user \"\(userName)\" uses an exec or auth-provider plugin, which llmesh does not run; use a token or a client certificate")
            }
        }
        let namespace = context["namespace"] as? String ?? "default"
        return KubeConfig(server: server, credentials: credentials, certificateAuthorityPEM: ca, insecureSkipTLSVerify: insecure, namespace: namespace)
    }
}

/// Why a Kubernetes configuration could not be built.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
