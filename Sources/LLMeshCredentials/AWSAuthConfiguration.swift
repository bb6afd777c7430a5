/// Where the credentials come from, as configured on an LLMProvider (`auth.aws`). All optional: with nothing set the
/// resolver follows the AWS SDKs' default chain over the environment (see ``AWSCredentialResolver``).
public struct AWSAuthConfiguration: Sendable, Hashable {
    /// Overrides `AWS_REGION` / `AWS_DEFAULT_REGION`.
    public var region: String?
    /// An explicit role: overrides `AWS_ROLE_ARN` and forces web identity (IRSA).
    public var webIdentityRoleARN: String?
    /// Overrides `AWS_WEB_IDENTITY_TOKEN_FILE`.
    public var webIdentityTokenFile: String?
    /// Overrides `AWS_ROLE_SESSION_NAME`; must match `[\w+=,.@-]{2,64}`.
    public var roleSessionName: String?
    /// Forces EKS Pod Identity (the container credential provider, `AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    public var podIdentity: Bool

    public init(region: String? = nil, webIdentityRoleARN: String? = nil, webIdentityTokenFile: String? = nil, roleSessionName: String? = nil, podIdentity: Bool = false) {
        self.region = region
        self.webIdentityRoleARN = webIdentityRoleARN
        self.webIdentityTokenFile = webIdentityTokenFile
        self.roleSessionName = roleSessionName
        self.podIdentity = podIdentity
    }
}
