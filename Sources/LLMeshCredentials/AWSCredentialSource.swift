import Foundation

/// The provider a resolver uses, chosen once from the configuration and the environment.
enum AWSCredentialSource: Sendable {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
    case environment(AWSCredentials)
    /// Static keys of a profile in the shared credentials or config file.
    case profile(AWSCredentials)
    case webIdentity(WebIdentitySettings)
    case container(ContainerSettings)

    /// The name used in status, logs and errors.
    var name: String {
        switch self {
        case .environment: return "environment"
        case .profile: return AWSSharedConfig.source
        case .webIdentity: return WebIdentityCredentialProvider.source
        case .container: return ContainerCredentialProvider.source
        }
    }

    var roleARN: String? {
        if case .webIdentity(let settings) = self { return settings.roleARN }
        return nil
    }

    /// Chooses like the AWS SDKs' default chain, with the LLMProvider's settings first:
    ///
    /// 1. an explicit `webIdentityRoleARN` forces web identity; `podIdentity` forces the container provider;
    /// 2. static keys in the environment;
    /// 3. web identity from `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`;
    /// 4. the shared files' profile (``AWSSharedConfig``): web identity from its `role_arn` + `web_identity_token_file`,
    ///    else its static keys; a profile that relies on what llmesh does not implement (`source_profile`,
    ///    `credential_source`, `credential_process`, SSO) is an error naming the setting (see `profile(_:…)`);
    /// 5. the container provider from `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or `…_FULL_URI` (EKS Pod Identity).
    ///
    /// `shared` is the shared files' profile as already read for the region; nil reads it here.
    static func select(configuration: AWSAuthConfiguration, environment: AWSEnvironment, region: String, shared: Result<AWSSharedConfig?, AWSCredentialError>? = nil) -> Result<AWSCredentialSource, AWSCredentialError> {
        do throws(AWSCredentialError) {
            return .success(try choose(configuration: configuration, environment: environment, region: region, shared: shared ?? AWSSharedConfig.read(environment: environment)))
        } catch {
            return .failure(error)
        }
    }

    private static func choose(configuration: AWSAuthConfiguration, environment: AWSEnvironment, region: String, shared: Result<AWSSharedConfig?, AWSCredentialError>) throws(AWSCredentialError) -> AWSCredentialSource {
        let explicitRole = configuration.webIdentityRoleARN?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
        if explicitRole != nil, configuration.podIdentity {
            throw AWSCredentialError(kind: .notConfigured, source: "none", message: "auth.aws sets both a web identity role and podIdentity; choose one")
        }
        if let explicitRole {
            return .webIdentity(try webIdentity(roleARN: explicitRole, configuration: configuration, environment: environment, region: region))
        }
        if configuration.podIdentity {
            guard let container = try container(environment: environment) else {
                throw AWSCredentialError(kind: .notConfigured, source: ContainerCredentialProvider.source, message: "auth.aws.podIdentity is set but AWS_CONTAINER_CREDENTIALS_FULL_URI is not (is the EKS Pod Identity association in place?)")
            }
            return .container(container)
        }
        if let credentials = try staticCredentials(environment: environment) {
            return .environment(credentials)
        }
        if let role = environment["AWS_ROLE_ARN"], configuration.webIdentityTokenFile?.nonEmpty != nil || environment["AWS_WEB_IDENTITY_TOKEN_FILE"] != nil {
            return .webIdentity(try webIdentity(roleARN: role, configuration: configuration, environment: environment, region: region))
        }
        if let shared = try shared.get(), let source = try profile(shared, environment: environment, region: region) {
            return source
        }
        if let container = try container(environment: environment) {
            return .container(container)
        }
        throw AWSCredentialError(
            kind: .notConfigured, source: "none",
            message: "no AWS credentials found: looked for auth.aws.webIdentity.roleARN, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, the shared credentials and config files' profile, and AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI"
        )
    }

    /// The source a shared-file profile gives, or nil when it has no credentials (only a region, say). The order is
    /// botocore's: assume-role, web identity, SSO, the credentials file's keys, `credential_process`, the config
    /// file's keys. What llmesh does not implement is an error where botocore would use it, never a skip to the next.
    private static func profile(_ shared: AWSSharedConfig, environment: AWSEnvironment, region: String) throws(AWSCredentialError) -> AWSCredentialSource? {
        let name = "AWS profile \"\(shared.profile)\""
        func unsupported(_ setting: String) -> AWSCredentialError {
            AWSCredentialError(
                kind: .notConfigured, source: AWSSharedConfig.source,
                message: "\(name) gets its credentials through \(setting), which llmesh does not support; give the sidecar static keys, web identity (role_arn + web_identity_token_file) or the container provider"
            )
        }
        if shared["role_arn"] != nil, let setting = ["source_profile", "credential_source"].first(where: { shared[$0] != nil }) {
            throw unsupported(setting)
        }
        if let role = shared["role_arn"] {
            guard let tokenFile = shared["web_identity_token_file"] else {
                throw AWSCredentialError(kind: .notConfigured, source: AWSSharedConfig.source, message: "\(name) has role_arn but no web_identity_token_file, source_profile or credential_source to assume it with")
            }
            guard let path = AWSSharedConfig.path(tokenFile, environment: environment) else {
                throw AWSCredentialError(kind: .notConfigured, source: AWSSharedConfig.source, message: "\(name) has web_identity_token_file \(tokenFile), but HOME is unset")
            }
            return .webIdentity(try webIdentitySettings(roleARN: role, tokenFile: path, sessionName: shared["role_session_name"], environment: environment, region: region))
        }
        if let setting = ["sso_session", "sso_start_url", "sso_account_id"].first(where: { shared[$0] != nil }) {
            throw unsupported(setting)
        }
        if let credentials = try profileKeys(shared.credentialsFileSettings, name: name) {
            return .profile(credentials)
        }
        if shared["credential_process"] != nil {
            throw unsupported("credential_process")
        }
        return try profileKeys(shared.settings, name: name).map { .profile($0) }
    }

    /// Static keys among `settings`; a key id without its secret (or the reverse) is an error, as in botocore.
    private static func profileKeys(_ settings: [String: String], name: String) throws(AWSCredentialError) -> AWSCredentials? {
        switch (settings["aws_access_key_id"]?.nonEmpty, settings["aws_secret_access_key"]?.nonEmpty) {
        case (let keyID?, let secret?):
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: settings["aws_session_token"]?.nonEmpty)
        case (_?, nil):
            throw AWSCredentialError(kind: .notConfigured, source: AWSSharedConfig.source, message: "\(name) has aws_access_key_id without aws_secret_access_key")
        case (nil, _?):
            throw AWSCredentialError(kind: .notConfigured, source: AWSSharedConfig.source, message: "\(name) has aws_secret_access_key without aws_access_key_id")
        case (nil, nil):
            return nil
        }
    }

    private static func staticCredentials(environment: AWSEnvironment) throws(AWSCredentialError) -> AWSCredentials? {
        let keyID = environment["AWS_ACCESS_KEY_ID"]
        let secret = environment["AWS_SECRET_ACCESS_KEY"]
        switch (keyID, secret) {
        case (nil, nil):
            return nil
        case (let keyID?, let secret?):
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        case (nil, _?):
            throw AWSCredentialError(kind: .notConfigured, source: "environment", message: "AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID")
        case (_?, nil):
            throw AWSCredentialError(kind: .notConfigured, source: "environment", message: "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY")
        }
    }

    private static func webIdentity(roleARN: String, configuration: AWSAuthConfiguration, environment: AWSEnvironment, region: String) throws(AWSCredentialError) -> WebIdentitySettings {
        guard let tokenFile = configuration.webIdentityTokenFile?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty ?? environment["AWS_WEB_IDENTITY_TOKEN_FILE"] else {
            throw AWSCredentialError(kind: .notConfigured, source: WebIdentityCredentialProvider.source, message: "role \(roleARN) has no token file: set auth.aws.webIdentity.tokenFile or AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        let sessionName = configuration.roleSessionName?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty ?? environment["AWS_ROLE_SESSION_NAME"]
        return try webIdentitySettings(roleARN: roleARN, tokenFile: tokenFile, sessionName: sessionName, environment: environment, region: region)
    }

    private static func webIdentitySettings(roleARN: String, tokenFile: String, sessionName: String?, environment: AWSEnvironment, region: String) throws(AWSCredentialError) -> WebIdentitySettings {
        let source = WebIdentityCredentialProvider.source
        if let sessionName, !WebIdentityCredentialProvider.isValidSessionName(sessionName) {
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "role session name \"\(sessionName)\" must be 2 to 64 characters of [A-Za-z0-9_+=,.@-]")
        }
        let endpoint = environment.stsEndpoint(region: region)
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host?.isEmpty == false else {
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "STS endpoint \(endpoint) is not an http(s) URL")
        }
        return WebIdentitySettings(roleARN: roleARN, tokenFile: tokenFile, sessionName: sessionName, endpoint: endpoint)
    }

    /// The container provider's endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on the ECS agent (which wins, as in
    /// botocore), else `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    private static func container(environment: AWSEnvironment) throws(AWSCredentialError) -> ContainerSettings? {
        let uri: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            guard relative.hasPrefix("/") else {
                throw AWSCredentialError(kind: .notConfigured, source: ContainerCredentialProvider.source, message: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /")
            }
            uri = ContainerEndpointPolicy.ecsAgentBaseURL + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            uri = full
        } else {
            return nil
        }
        if let problem = ContainerEndpointPolicy.problem(with: uri) {
            throw AWSCredentialError(kind: .notConfigured, source: ContainerCredentialProvider.source, message: problem)
        }
        let authorization: ContainerSettings.Authorization
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            authorization = .file(file)
        } else if let token = environment.variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            authorization = .value(token)
        } else {
            authorization = .none
        }
        return ContainerSettings(fullURI: uri, authorization: authorization)
    }

    /// Fetches fresh credentials from this source.
    func fetch(_ context: FetchContext) async throws(AWSCredentialError) -> AWSCredentials {
        switch self {
        case .environment(let credentials), .profile(let credentials):
            return credentials
        case .webIdentity(let settings):
            return try await WebIdentityCredentialProvider(settings: settings).fetch(context)
        case .container(let settings):
            return try await ContainerCredentialProvider(settings: settings).fetch(context)
        }
    }
}

extension String {
    /// nil when empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
