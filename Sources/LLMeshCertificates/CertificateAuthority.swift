import Crypto
import Foundation
import SwiftASN1
import X509

/// A key pair and certificate in PEM, as stored in the operator's TLS Secret.
public struct PEMCertificate: Sendable, Hashable {
    public var certificatePEM: String
    public var privateKeyPEM: String
    public var notAfter: Date
    public var notBefore: Date

    /// Whether less than a third of `lifetime`, the validity the certificate was issued with, is left at `now`.
    ///
    /// The lifetime is passed in rather than read from the certificate because validity starts
    /// ``CertificateAuthority/clockSkewAllowance`` early: counted in, it would make a short-lived certificate look
    /// almost spent the moment it is issued.
    public func isDueForRenewal(at now: Date, lifetime: TimeInterval) -> Bool {
        notAfter.timeIntervalSince(now) < lifetime / 3
    }
}

/// Creates the operator's own CA and serving certificates (ECDSA P-256), with swift-certificates.
public enum CertificateAuthority {
    /// How far before its issue time a certificate's validity starts, for clocks that run behind.
    public static let clockSkewAllowance: TimeInterval = 300

    /// A self-signed CA certificate.
    /// Each CA gets its own name (the creation time is part of it): during a rotation the bundle holds two CAs, and
    /// TLS clients pick the issuer by name.
    public static func makeCA(commonName: String = "llmesh-operator-ca", validity: TimeInterval = 10 * 365 * 86_400, now: Date = Date()) throws -> PEMCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("\(commonName)-\(Int(now.timeIntervalSince1970 * 1000))") }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-clockSkewAllowance), notValidAfter: now.addingTimeInterval(validity),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return PEMCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation, notAfter: certificate.notValidAfter, notBefore: certificate.notValidBefore)
    }

    /// A serving certificate for `dnsNames` and `ipAddresses`, signed by `ca`.
    public static func issueServing(dnsNames: [String], ipAddresses: [String] = [], ca: PEMCertificate, validity: TimeInterval = 365 * 86_400, now: Date = Date()) throws -> PEMCertificate {
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: ca.privateKeyPEM)
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(dnsNames.first ?? ipAddresses.first ?? "llmesh-operator") }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = IPAddressBytes.parse(address) else { throw CertificateError("not an IP address: \(address)") }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-clockSkewAllowance), notValidAfter: min(now.addingTimeInterval(validity), caCertificate.notValidAfter),
            issuer: caCertificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
        return PEMCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation, notAfter: certificate.notValidAfter, notBefore: certificate.notValidBefore)
    }

    /// Reads validity dates back from PEM.
    public static func load(certificatePEM: String, privateKeyPEM: String) throws -> PEMCertificate {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        _ = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        return PEMCertificate(certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, notAfter: certificate.notValidAfter, notBefore: certificate.notValidBefore)
    }
}

/// A certificate could not be made or read.
public struct CertificateError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// IPv4 and IPv6 text to bytes, for subject alternative names.
public enum IPAddressBytes {
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
