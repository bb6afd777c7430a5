import Foundation
import LLMeshCertificates
import NIOSSL

/// The certificate material of the sidecar's loopback HTTPS listener, made fresh at every start.
///
/// botocore sends `AWS_BEARER_TOKEN_BEDROCK` only to an HTTPS endpoint, so an app without AWS credentials of its own
/// reaches the sidecar over TLS on loopback. The sidecar makes a private CA and a serving certificate for `localhost`,
/// `127.0.0.1` and `::1`, keeps both private keys in memory only, and writes two public files for the app:
/// `ca.crt` (the CA alone) and `ca-bundle.crt` (the system roots followed by that CA). `AWS_CA_BUNDLE` replaces the
/// roots botocore trusts for *every* AWS endpoint, so the bundle carries the system roots too and the app's other AWS
/// calls (S3, STS, …) keep verifying as before.
public struct LoopbackTLS: Sendable {
    /// The PEM files a system keeps its roots in, first match wins (Debian/Ubuntu/Alpine, RHEL/Fedora, SUSE, macOS/BSD).
    public static let systemRootCandidates = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]

    public let authority: PEMCertificate
    public let serving: PEMCertificate

    /// Makes a CA and a serving certificate for loopback.
    public init(now: Date = Date()) throws {
        try self.init(authority: CertificateAuthority.makeCA(commonName: "llmesh-sidecar-local-ca", validity: 400 * 86_400, now: now), now: now)
    }

    /// Issues a fresh serving certificate from an existing CA.
    init(authority: PEMCertificate, now: Date) throws {
        self.authority = authority
        serving = try CertificateAuthority.issueServing(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"], ca: authority, validity: 399 * 86_400, now: now)
    }

    /// The CA kept in `stateDirectory` (a sidecar-only directory such as the snapshot cache) when it is readable and
    /// valid for 30 more days, else a new one saved there (key file mode 0600). Keeping the CA across sidecar
    /// restarts keeps the app's already loaded `AWS_CA_BUNDLE` valid; without a state directory every start makes a new CA.
    public static func loadOrCreate(stateDirectory: String?, now: Date = Date()) throws -> LoopbackTLS {
        guard let stateDirectory else { return try LoopbackTLS(now: now) }
        let certificatePath = (stateDirectory as NSString).appendingPathComponent("loopback-ca.crt")
        let keyPath = (stateDirectory as NSString).appendingPathComponent("loopback-ca.key")
        if let certificate = FileManager.default.contents(atPath: certificatePath), let key = FileManager.default.contents(atPath: keyPath),
           let kept = try? CertificateAuthority.load(certificatePEM: String(decoding: certificate, as: UTF8.self), privateKeyPEM: String(decoding: key, as: UTF8.self)),
           kept.notAfter.timeIntervalSince(now) > 30 * 86_400 {
            return try LoopbackTLS(authority: kept, now: now)
        }
        let fresh = try LoopbackTLS(now: now)
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        try writeAtomically(fresh.authority.privateKeyPEM, to: keyPath, permissions: 0o600)
        try writeAtomically(fresh.authority.certificatePEM, to: certificatePath)
        return fresh
    }

    /// A TLS server context serving the loopback certificate (TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
    public func serverContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(serving.privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    /// Writes `ca.crt` and `ca-bundle.crt` into `directory` (created if missing), each by an atomic rename, so an app
    /// reading the bundle never sees half a file. Returns the bundle's path.
    @discardableResult
    public func writeFiles(to directory: String, systemRoots: String? = LoopbackTLS.readSystemRoots()) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let caPath = (directory as NSString).appendingPathComponent("ca.crt")
        let bundlePath = (directory as NSString).appendingPathComponent("ca-bundle.crt")
        try Self.writeAtomically(authority.certificatePEM, to: caPath)
        var bundle = systemRoots ?? ""
        if !bundle.isEmpty && !bundle.hasSuffix("\n") { bundle += "\n" }
        bundle += "# llmesh sidecar local CA (loopback HTTPS listener)\n" + authority.certificatePEM
        try Self.writeAtomically(bundle, to: bundlePath)
        return bundlePath
    }

    /// The system's root certificates as PEM, or `nil` when none of the usual files exists.
    public static func readSystemRoots(candidates: [String] = systemRootCandidates) -> String? {
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
                return String(decoding: data, as: UTF8.self)
            }
        }
        return nil
    }

    private static func writeAtomically(_ text: String, to path: String, permissions: Int = 0o644) throws {
        let temporary = path + ".tmp-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: permissions]) else {
            throw CertificateError("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            unlink(temporary)
            throw CertificateError("cannot move \(temporary) to \(path): errno \(errno)")
        }
    }
}
