import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The AWS credentials of one provider: chooses the source once (see ``AWSAuthConfiguration``), then caches and
/// refreshes like botocore.
///
/// - Credentials without an expiration (static keys) are used forever.
/// - Outside the advisory window they are returned from the cache.
/// - Inside the advisory window (but outside the mandatory one) they are returned at once and one background refresh
///   starts; its failure is logged and kept in ``status``, and the cached credentials stay in use.
/// - Inside the mandatory window, past expiry, before the first fetch or after ``invalidate()``, callers wait, and
///   all concurrent callers share one fetch; its error reaches every one of them.
///
/// Windows are shrunk for credentials too short-lived for them (see ``AWSRefreshPolicy``).
public final class AWSCredentialResolver: Sendable {
    /// The mutable part, behind one lock: the cache and the fetch in flight.
    private struct State: Sendable {
        var cache = CredentialCache()
        var inFlight: Task<Result<AWSCredentials, AWSCredentialError>, Never>?
        /// Callers waiting for a fetch.
        var waiting = 0
    }

    /// The region for signing and for STS: configuration, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the shared
    /// config file's profile, else `us-east-1`.
    public let region: String
    /// Signing keys derived from these credentials, shared by every request signed with them.
    public let signingKeys = SigV4KeyCache()
    private let selection: Result<AWSCredentialSource, AWSCredentialError>
    private let context: FetchContext
    private let state = NIOLockedValueBox(State())

    public convenience init(configuration: AWSAuthConfiguration, environment: AWSEnvironment, refresh: AWSRefreshPolicy = .default, httpClient: HTTPClient, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.init(configuration: configuration, environment: environment, refresh: refresh, retry: .default, httpClient: httpClient, logger: logger, now: now)
    }

    /// With retry timing and a per-attempt timeout of its own, for tests.
    init(configuration: AWSAuthConfiguration, environment: AWSEnvironment, refresh: AWSRefreshPolicy, retry: RetryPolicy, requestTimeout: TimeAmount? = nil, httpClient: HTTPClient, logger: Logger, now: @escaping @Sendable () -> Date) {
        // The shared files are read once, for both the region and the source.
        let shared = AWSSharedConfig.read(environment: environment)
        let region = environment.region(configured: configuration.region, profile: try? shared.get())
        self.region = region
        self.selection = AWSCredentialSource.select(configuration: configuration, environment: environment, region: region, shared: shared)
        self.context = FetchContext(httpClient: httpClient, logger: logger, now: now, retry: retry, refresh: refresh, requestTimeout: requestTimeout)
    }

    /// Credentials to sign with now.
    ///
    /// - Throws: ``AWSCredentialError``: `.notConfigured` when no source applies, otherwise the error of the fetch
    ///   this call waited for.
    public func credentials() async throws(AWSCredentialError) -> AWSCredentials {
        let source: AWSCredentialSource
        switch selection {
        case .success(let chosen): source = chosen
        case .failure(let error): throw error
        }
        enum Step {
            case done(AWSCredentials)
            case wait(Task<Result<AWSCredentials, AWSCredentialError>, Never>)
        }
        let now = context.now()
        let policy = context.refresh
        let step = state.withLockedValue { state -> Step in
            switch state.cache.decide(now: now, policy: policy, refreshing: state.inFlight != nil) {
            case .use(let credentials):
                return .done(credentials)
            case .useAndRefresh(let credentials):
                _ = startFetch(&state, source: source)
                return .done(credentials)
            case .wait:
                state.waiting += 1
                return .wait(state.inFlight ?? startFetch(&state, source: source))
            }
        }
        switch step {
        case .done(let credentials):
            return credentials
        case .wait(let fetch):
            let result = await fetch.value
            state.withLockedValue { $0.waiting -= 1 }
            return try result.get()
        }
    }

    /// Callers waiting for a fetch now (for tests of the single flight).
    var waitingCallers: Int { state.withLockedValue { $0.waiting } }

    /// The upstream rejected the credentials (`ExpiredTokenException`, `UnrecognizedClientException`…): the next
    /// call fetches fresh ones.
    public func invalidate() {
        state.withLockedValue { $0.cache.invalidate() }
    }

    /// For `/config_dump`: no secret material.
    public var status: AWSCredentialStatus {
        let source = (try? selection.get())
        let cache = state.withLockedValue { $0.cache }
        return AWSCredentialStatus(
            source: source?.name ?? "none",
            roleARN: source?.roleARN,
            region: region,
            expiration: cache.credentials?.expiration,
            refreshes: cache.refreshes,
            lastError: cache.lastError ?? (selection.failure?.description)
        )
    }

    /// Starts the one fetch; called with the lock held, so the task is recorded before anyone else can look.
    private func startFetch(_ state: inout State, source: AWSCredentialSource) -> Task<Result<AWSCredentials, AWSCredentialError>, Never> {
        let task = Task { await self.fetch(from: source) }
        state.inFlight = task
        return task
    }

    private func fetch(from source: AWSCredentialSource) async -> Result<AWSCredentials, AWSCredentialError> {
        let result: Result<AWSCredentials, AWSCredentialError>
        do throws(AWSCredentialError) {
            result = .success(try await source.fetch(context))
        } catch {
            result = .failure(error)
        }
        let now = context.now()
        let policy = context.refresh
        let (refreshes, stillUsable) = state.withLockedValue { state -> (Int, Bool) in
            state.inFlight = nil
            switch result {
            case .success(let credentials): state.cache.succeeded(credentials, at: now)
            case .failure(let error): state.cache.failed(error, at: now)
            }
            return (state.cache.refreshes, state.cache.decide(now: now, policy: policy, refreshing: true) != .wait)
        }
        var metadata: Logger.Metadata = ["aws.credentials.source": "\(source.name)", "aws.region": "\(region)"]
        if let role = source.roleARN { metadata["aws.role_arn"] = "\(role)" }
        switch result {
        case .success(let credentials):
            metadata["aws.access_key_id_prefix"] = "\(credentials.accessKeyIDPrefix)"
            metadata["aws.credentials.expiration"] = "\(credentials.expiration?.ISO8601Format() ?? "never")"
            metadata["aws.credentials.refreshes"] = "\(refreshes)"
            context.logger.info("AWS credentials fetched", metadata: metadata)
        case .failure(let error):
            metadata["error"] = "\(error.description)"
            if stillUsable {
                context.logger.warning("AWS credential refresh failed; the cached credentials stay in use", metadata: metadata)
            } else {
                context.logger.error("AWS credential fetch failed", metadata: metadata)
            }
        }
        return result
    }
}

extension Result {
    /// The error, if this is a failure.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
