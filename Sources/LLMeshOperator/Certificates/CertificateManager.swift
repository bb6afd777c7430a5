import LLMeshCertificates
import Foundation
import LLMeshKube
import Logging
import NIOConcurrencyHelpers
import NIOSSL

/// The operator's own TLS: a CA and a serving certificate kept in a Secret, renewed ahead of expiry, with the CA
/// bundle patched into the webhook configurations; every replica serves the current certificate without a restart.
///
/// Renewal: the serving certificate when less than a third of its life is left; the CA likewise, and then the bundle
/// holds the new and the old CA until the old one expires, so clients that still trust only the old CA keep working.
public final class CertificateManager: Sendable {
    /// Where the Secret and the webhook configurations are.
    public struct Settings: Sendable {
        public var namespace: String
        public var secretName: String
        public var serviceName: String
        public var mutatingWebhook: String?
        public var validatingWebhook: String?
        public var extraDNSNames: [String] = []
        public var ipAddresses: [String] = []
        public var caValidity: TimeInterval = 10 * 365 * 86_400
        public var servingValidity: TimeInterval = 365 * 86_400
        /// After a CA rotation, how long the new bundle (both CAs) is published before the certificate signed by the
        /// new CA is served, so that clients holding the previous bundle have picked up the new one.
        public var bundlePropagationDelay: Duration = .seconds(60)

        public init(namespace: String, secretName: String = "llmesh-operator-tls", serviceName: String = "llmesh-operator", mutatingWebhook: String? = "llmesh-sidecar-injector", validatingWebhook: String? = "llmesh-validation") {
            self.namespace = namespace
            self.secretName = secretName
            self.serviceName = serviceName
            self.mutatingWebhook = mutatingWebhook
            self.validatingWebhook = validatingWebhook
        }

        var dnsNames: [String] {
            ["\(serviceName).\(namespace).svc", "\(serviceName).\(namespace).svc.cluster.local", "\(serviceName).\(namespace)", serviceName] + extraDNSNames
        }
    }

    private struct Current {
        var context: NIOSSLContext
        var bundlePEM: String
        var servingNotAfter: Date
    }

    let client: KubeClient
    public let settings: Settings
    private let logger: Logger
    private let current = NIOLockedValueBox<Current?>(nil)

    public init(client: KubeClient, settings: Settings, logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    /// The TLS context for a new connection.
    public func context() -> NIOSSLContext? { current.withLockedValue { $0?.context } }

    /// The CA bundle (PEM) clients should trust.
    public var caBundlePEM: String? { current.withLockedValue { $0?.bundlePEM } }

    /// Loads the Secret, creating or renewing what needs it, and patches the webhooks' `caBundle`. Safe to call from
    /// every replica: writes use the Secret's resourceVersion, so one replica wins and the others take its result.
    public func reconcile(now: Date = Date()) async throws {
        let key = ObjectKey(namespace: settings.namespace, name: settings.secretName)
        var existing: KubeObject?
        do { existing = try await client.get(.secrets, key) } catch let error as KubeAPIError where error.isNotFound { existing = nil }
        let data = existing.map(NamespaceInputsSecret.data) ?? [:]
        var ca = try? data["ca.crt"].flatMap { pem in try data["ca.key"].map { try CertificateAuthority.load(certificatePEM: pem, privateKeyPEM: $0) } }
        var serving = try? data["tls.crt"].flatMap { pem in try data["tls.key"].map { try CertificateAuthority.load(certificatePEM: pem, privateKeyPEM: $0) } }
        var previousCAs = data["ca-previous.crt"] ?? ""
        var changed = false
        var caRotated = false
        if ca == nil || ca?.isDueForRenewal(at: now, lifetime: settings.caValidity) != false {
            if let old = ca, old.notAfter > now {
                previousCAs = old.certificatePEM
                caRotated = context() != nil
            }
            ca = try CertificateAuthority.makeCA(validity: settings.caValidity, now: now)
            serving = nil
            changed = true
            logger.info("created a new webhook CA", metadata: ["secret": "\(key)"])
        }
        guard let ca else { throw CertificateError("no CA") }
        if serving == nil || serving?.isDueForRenewal(at: now, lifetime: min(settings.servingValidity, settings.caValidity)) != false {
            serving = try CertificateAuthority.issueServing(dnsNames: settings.dnsNames, ipAddresses: settings.ipAddresses, ca: ca, validity: settings.servingValidity, now: now)
            changed = true
            logger.info("issued a new serving certificate", metadata: ["secret": "\(key)"])
        }
        guard let serving else { throw CertificateError("no serving certificate") }
        let bundle = [ca.certificatePEM, previousCAs].filter { !$0.isEmpty }.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
        if changed {
            let stored: [String: String] = ["ca.crt": ca.certificatePEM, "ca.key": ca.privateKeyPEM, "tls.crt": serving.certificatePEM, "tls.key": serving.privateKeyPEM, "ca-previous.crt": previousCAs, "ca-bundle.crt": bundle]
            let encoded = JSONValue.object(stored.mapValues { .string(Data($0.utf8).base64EncodedString()) })
            do {
                if var secret = existing?.json {
                    secret["data"] = encoded
                    _ = try await client.update(.secrets, secret)
                } else {
                    let secret: JSONValue = ["apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": ["name": .string(settings.secretName), "namespace": .string(settings.namespace)], "data": encoded]
                    _ = try await client.create(.secrets, secret, namespace: settings.namespace)
                }
            } catch let error as KubeAPIError where error.isConflict {
                // Another replica wrote first: use what it wrote.
                return try await reconcile(now: now)
            }
        }
        // The bundle goes out before the certificate that needs it: clients that trust it never see an unknown CA.
        try await patchWebhooks(bundle: bundle)
        if caRotated { try await Task.sleep(for: propagationDelay(now: now)) }
        try install(serving: serving, bundle: bundle)
    }

    /// Re-checks every `interval` until cancelled.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            do { try await reconcile() } catch { logger.warning("certificate check failed; will retry", metadata: ["error": "\(error)"]) }
        }
    }

    /// The wait between publishing a new bundle and serving the certificate that needs it: the configured delay, cut
    /// short so that the certificate served meanwhile is never kept past half of what it has left.
    private func propagationDelay(now: Date) -> Duration {
        guard let servedUntil = current.withLockedValue({ $0?.servingNotAfter }) else { return .zero }
        let configured = Double(settings.bundlePropagationDelay.components.seconds) + Double(settings.bundlePropagationDelay.components.attoseconds) / 1e18
        let seconds = max(0, min(configured, servedUntil.timeIntervalSince(now) / 2))
        return .milliseconds(Int64(seconds * 1000))
    }

    private func install(serving: PEMCertificate, bundle: String) throws {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(serving.privateKeyPEM.utf8), format: .pem)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        current.withLockedValue { $0 = Current(context: context, bundlePEM: bundle, servingNotAfter: serving.notAfter) }
    }

    private func patchWebhooks(bundle: String) async throws {
        let encoded = Data(bundle.utf8).base64EncodedString()
        for (name, type) in [(settings.mutatingWebhook, ResourceType.mutatingWebhookConfigurations), (settings.validatingWebhook, ResourceType.validatingWebhookConfigurations)] {
            guard let name else { continue }
            let configuration: KubeObject
            do { configuration = try await client.get(type, ObjectKey(namespace: nil, name: name)) } catch let error as KubeAPIError where error.isNotFound { continue }
            let webhooks = configuration.json["webhooks"]?.arrayValue ?? []
            let operations = webhooks.indices.compactMap { index -> JSONValue? in
                guard webhooks[index][path: "clientConfig.caBundle"]?.stringValue != encoded else { return nil }
                return ["op": "add", "path": .string("/webhooks/\(index)/clientConfig/caBundle"), "value": .string(encoded)]
            }
            guard !operations.isEmpty else { continue }
            _ = try await client.patch(type, ObjectKey(namespace: nil, name: name), .json, body: .array(operations))
            logger.info("patched caBundle", metadata: ["webhookConfiguration": "\(name)"])
        }
    }
}

/// Decoding of a Secret's `data` (shared with the namespace compiler's reading of Secrets).
enum NamespaceInputsSecret {
    static func data(_ secret: KubeObject) -> [String: String] { NamespaceInputs.secretData(secret) }
}
