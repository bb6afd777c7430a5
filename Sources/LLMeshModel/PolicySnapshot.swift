/// The compiled policy of one namespace, as the operator pushes it to the namespace's sidecars.
///
/// It holds only resources that are ready, with every reference resolved: virtual keys carry the SHA-256 of their
/// Secret (never the key), and provider API keys from Secrets travel in `credentials` keyed `secretName/key`.
/// `version` grows by one whenever `contentHash` changes; a sidecar applies a snapshot whole or not at all.
public struct PolicySnapshot: Sendable, Hashable, Codable {
    public var namespace: String
    public var version: Int
    /// `sha256:` + hex of the canonical JSON of `bundle` and `credentials`.
    public var contentHash: String
    public var bundle: PolicyBundle
    public var credentials: [String: String]
    /// Budgets spent across the whole fleet this period (`VirtualKey/NAME`, `LLMPolicy/NAME`): sidecars refuse them.
    public var exhaustedBudgets: [String]

    public init(namespace: String, version: Int, contentHash: String, bundle: PolicyBundle, credentials: [String: String], exhaustedBudgets: [String] = []) {
        self.namespace = namespace
        self.version = version
        self.contentHash = contentHash
        self.bundle = bundle
        self.credentials = credentials
        self.exhaustedBudgets = exhaustedBudgets
    }

    /// The `credentials` key of a Secret reference.
    public static func credentialKey(_ reference: SecretKeyReference) -> String { "\(reference.name)/\(reference.key)" }
}
