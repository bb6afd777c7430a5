/// The operator's well-known ports (design §6).
public enum OperatorPorts {
    /// Webhooks and the snapshot service (HTTPS).
    public static let https = 8443
    /// `/healthz`, `/readyz` and `/metrics` (plain HTTP).
    public static let admin = 8080
}
