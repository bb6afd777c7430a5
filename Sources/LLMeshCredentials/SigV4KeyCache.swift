import Crypto
import NIOConcurrencyHelpers

/// The SigV4 signing key last derived for one set of credentials.
///
/// A signing key depends only on the secret, the day, the region and the service, so it changes at most daily and at
/// each credential refresh; deriving it takes four HMACs, which every request would otherwise repeat. One entry is
/// kept: the credentials of a resolver are replaced, not accumulated.
public final class SigV4KeyCache: Sendable {
    /// What a signing key is derived from.
    struct Scope: Sendable, Equatable {
        var secret: String
        var day: String
        var region: String
        var service: String
    }

    private struct Entry: Sendable {
        var scope: Scope
        /// The key's 32 bytes (`SymmetricKey` itself is not `Sendable`).
        var key: [UInt8]
    }

    private let entry = NIOLockedValueBox<Entry?>(nil)

    public init() {}

    /// The key for `scope`, derived with `derive` when the cached one is for another scope.
    func key(for scope: Scope, derive: () -> SymmetricKey) -> SymmetricKey {
        if let cached = entry.withLockedValue({ $0 }), cached.scope == scope { return SymmetricKey(data: cached.key) }
        let key = derive()
        entry.withLockedValue { $0 = Entry(scope: scope, key: key.withUnsafeBytes { Array($0) }) }
        return key
    }
}
