import Foundation
import NIOConcurrencyHelpers
import NIOSSL

/// A server TLS context built from a certificate and key file, rebuilt when the files change (a rotated Secret), looked
/// at no more than once every `checkInterval`.
public final class ReloadingTLSContext: Sendable {
    private struct State {
        var context: NIOSSLContext?
        var fingerprint: String = ""
        var checkedAt: ContinuousClock.Instant?
    }

    public let certificateFile: String
    public let keyFile: String
    public let checkInterval: Duration
    private let state = NIOLockedValueBox(State())

    /// Loads the files once; throws when they do not make a usable context.
    public init(certificateFile: String, keyFile: String, checkInterval: Duration = .seconds(10)) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.checkInterval = checkInterval
        let (context, fingerprint) = try Self.load(certificateFile: certificateFile, keyFile: keyFile)
        state.withLockedValue { $0 = State(context: context, fingerprint: fingerprint, checkedAt: .now) }
    }

    /// The context for a new connection.
    public func current() -> NIOSSLContext? {
        let now = ContinuousClock.now
        let due = state.withLockedValue { state -> Bool in
            guard let checked = state.checkedAt, checked.duration(to: now) < checkInterval else {
                state.checkedAt = now
                return true
            }
            return false
        }
        if due, let (context, fingerprint) = try? Self.load(certificateFile: certificateFile, keyFile: keyFile) {
            state.withLockedValue { state in
                if state.fingerprint != fingerprint {
                    state.context = context
                    state.fingerprint = fingerprint
                }
            }
        }
        return state.withLockedValue { $0.context }
    }

    private static func load(certificateFile: String, keyFile: String) throws -> (NIOSSLContext, String) {
        let certificatePEM = try Data(contentsOf: URL(fileURLWithPath: certificateFile))
        let keyPEM = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM), format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        return (try NIOSSLContext(configuration: configuration), "\(certificatePEM.hashValue)-\(keyPEM.hashValue)")
    }
}
