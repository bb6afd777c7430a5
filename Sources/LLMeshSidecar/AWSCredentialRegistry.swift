import AsyncHTTPClient
import Foundation
import LLMeshCredentials
import LLMeshModel
import Logging
import NIOConcurrencyHelpers

/// One AWS credential resolver per distinct `auth.aws` setting, kept across policy reloads.
///
/// Resolvers cache and refresh their credentials; keeping them per setting (not per policy version) means a reload
/// that leaves a provider's `auth.aws` alone does not throw away good credentials or start a second STS client.
public final class AWSCredentialRegistry: Sendable {
    private let resolvers = NIOLockedValueBox<[AWSAuthConfiguration: AWSCredentialResolver]>([:])
    private let httpClient: HTTPClient
    private let refresh: AWSRefreshPolicy
    private let environment: AWSEnvironment
    private let logger: Logger

    public init(httpClient: HTTPClient, refresh: AWSRefreshSettings, environment: AWSEnvironment = .process, logger: Logger) {
        self.httpClient = httpClient
        self.refresh = AWSRefreshPolicy(advisory: refresh.advisory.duration, mandatory: refresh.mandatory.duration, sessionDuration: refresh.sessionDuration.duration)
        self.environment = environment
        self.logger = logger
    }

    /// The resolver for a provider's `auth.aws` (absent: the environment alone).
    public func resolver(for auth: AWSAuth?) -> AWSCredentialResolver {
        let configuration = Self.configuration(auth)
        return resolvers.withLockedValue { resolvers in
            if let existing = resolvers[configuration] { return existing }
            let resolver = AWSCredentialResolver(configuration: configuration, environment: environment, refresh: refresh, httpClient: httpClient, logger: logger)
            resolvers[configuration] = resolver
            return resolver
        }
    }

    /// The status of the resolver for `auth`, for `/config_dump`, without creating one.
    public func status(for auth: AWSAuth?) -> AWSCredentialStatus? {
        let configuration = Self.configuration(auth)
        return resolvers.withLockedValue { $0[configuration] }?.status
    }

    static func configuration(_ auth: AWSAuth?) -> AWSAuthConfiguration {
        AWSAuthConfiguration(
            region: auth?.region,
            webIdentityRoleARN: auth?.webIdentity?.roleARN,
            webIdentityTokenFile: auth?.webIdentity?.tokenFile,
            roleSessionName: auth?.webIdentity?.sessionName,
            podIdentity: auth?.podIdentity ?? false
        )
    }
}
