import Foundation
import LLMeshModel
import LLMeshProviders
import Logging
import NIOCore
import NIOHTTP1

/// The app listener's handler: the request path of a sidecar, from a parsed request to an accounted answer.
///
/// Steps: classify the API by path, read the routing fields of the body, resolve the route, order its backends,
/// then try them (retrying and falling back as the route allows, only until the first byte reaches the app),
/// relay the answer while reading its usage, and record the access log line and metrics. Every failure made here
/// answers in the caller's dialect with a stable code.
public struct LLMRequestHandler: HTTPRequestHandler {
    let settings: SidecarSettings
    let store: PolicyStore
    let credentials: CredentialStore
    let upstreams: UpstreamClients
    let metrics: SidecarMetrics
    let accessLog: AccessLog
    let health: BackendHealth
    let retryBudget: RetryBudget
    let policyEngine: PolicyEngine
    /// AWS credentials of Bedrock providers, cached per `auth.aws` setting.
    let awsCredentials: AWSCredentialRegistry
    let logger: Logger
    let selector = BackendSelector()

    public init(settings: SidecarSettings, store: PolicyStore, credentials: CredentialStore, upstreams: UpstreamClients, metrics: SidecarMetrics, accessLog: AccessLog, health: BackendHealth = BackendHealth(), retryBudget: RetryBudget = RetryBudget(), policyEngine: PolicyEngine? = nil, awsCredentials: AWSCredentialRegistry? = nil, logger: Logger) {
        self.awsCredentials = awsCredentials ?? AWSCredentialRegistry(httpClient: upstreams.credentialClient, refresh: settings.awsRefresh, logger: logger)
        self.settings = settings
        self.store = store
        self.credentials = credentials
        self.upstreams = upstreams
        self.metrics = metrics
        self.accessLog = accessLog
        self.health = health
        self.retryBudget = retryBudget
        self.policyEngine = policyEngine ?? PolicyEngine(workload: settings.workload, global: nil, metrics: metrics, logger: logger)
        self.logger = logger
    }

    public func handle(_ request: ServerRequest, response: ResponseWriter) async {
        let requestID = request.head.headers.first(name: "x-request-id").flatMap { $0.count <= 128 ? $0 : nil } ?? Self.makeRequestID()
        var trace = RequestTrace(requestID: requestID, method: request.head.method.rawValue, path: request.head.uri, receivedAt: request.receivedAt)
        trace.dialect = Self.guessDialect(request.head)
        metrics.inFlight(1)
        do {
            try await serve(request, response: response, trace: &trace)
        } catch let error as SidecarError {
            trace.status = error.status
            trace.errorCode = error.code.rawValue
            try? await respond(error, to: response, trace: trace)
        } catch {
            // The client went away or a write failed; nothing more can be sent.
            if trace.status == 0 { trace.status = 499 }
            trace.errorCode = trace.errorCode ?? "client_closed"
        }
        if let grant = trace.grant { await policyEngine.settle(grant, usage: trace.usage, costUSD: trace.costUSD) }
        finish(trace)
        // A request leaves the in-flight gauge only once settled and logged.
        metrics.inFlight(-1)
    }

    private func serve(_ request: ServerRequest, response: ResponseWriter, trace: inout RequestTrace) async throws {
        let kind: APIKind
        switch APIKind.classify(method: request.head.method.rawValue, path: request.head.uri) {
        case .unknownPath:
            throw SidecarError(.noRoute, "llmesh does not serve \(request.head.method.rawValue) \(request.head.uri.prefix { $0 != "?" }).")
        case .methodNotAllowed(let allowed):
            throw SidecarError(.methodNotAllowed, "\(request.head.uri.prefix { $0 != "?" }) accepts \(allowed) only.")
        case .api(let apiKind):
            kind = apiKind
        }
        trace.kind = kind
        if kind != .models { trace.dialect = kind.dialect }
        guard let policy = store.current else {
            throw SidecarError(.shuttingDown, "No policy is loaded yet.")
        }
        if kind == .models {
            let body = ModelListing.body(models: policy.exposedModels, dialect: trace.dialect, created: Int(Date().timeIntervalSince1970))
            trace.status = 200
            try await response.respond(status: 200, headers: Self.jsonHeaders(requestID: trace.requestID), body: body)
            return
        }
        guard !request.bodyTooLarge else {
            throw SidecarError(.requestTooLarge, "The request body is larger than the limit of \(settings.maximumRequestBodyBytes) bytes.")
        }
        let pathModel = kind.isBedrock ? BedrockPath(path: request.head.uri.prefix { $0 != "?" })?.modelID : nil
        var inspected = try InspectedRequest(body: Array(request.body.readableBytesView), kind: kind, pathModel: pathModel)
        trace.model = inspected.model
        trace.stream = inspected.stream
        guard let route = policy.route(for: inspected.model, header: { request.head.headers.first(name: $0) }) else {
            throw SidecarError(.modelNotFound, "The model '\(inspected.model)' does not exist or is not routed by llmesh. Routed models: \(policy.exposedModels.joined(separator: ", ")).", parameter: "model")
        }
        trace.route = route.name
        if PolicyEngine.hasWork(policy) {
            do {
                let grant = try await policyEngine.admit(AdmissionRequest(policy: policy, headers: request.head.headers, inspected: inspected, kind: kind, route: route, now: Int64(Date().timeIntervalSince1970)))
                trace.grant = grant
                if let redacted = grant.redacted { inspected = redacted }
            } catch {
                trace.rateLimitHeaders = error.headers
                throw error.error
            }
        }
        let plan = selector.plan(for: route, health: health)
        guard !plan.candidates.isEmpty else {
            throw SidecarError(.noRoute, "Route '\(route.name)' has no backend with a weight above 0.")
        }
        retryBudget.recordRequest(route: route.name)
        let totalTimeout = route.spec.timeout ?? settings.defaultTimeouts.request ?? .seconds(600)
        let deadline = trace.receivedAt + totalTimeout.duration
        var lastFailure: AttemptFailure?

        candidates: for backend in plan.candidates {
            let fit = backend.provider.type.fit(for: kind)
            guard fit != .unsupported else {
                lastFailure = .sidecar(SidecarError(.dialectMismatch, "Route '\(route.name)' sends '\(inspected.model)' to \(backend.provider.type.rawValue) provider '\(backend.providerName)', which does not serve the \(kind.dialect.displayName) \(kind.rawValue) API and llmesh has no translation for it."), trigger: nil, countsAgainstBackend: false)
                continue
            }
            if !plan.panic, health.admit(backend.key) == .ejected { continue }
            for attemptOnBackend in 1...max(1, route.spec.retry.attempts) {
                let context = AttemptContext(kind: kind, route: route, backend: backend, fit: fit, inspected: inspected, incomingHeaders: request.head.headers, deadline: deadline, totalTimeout: totalTimeout)
                let started = ContinuousClock.now
                health.begin(backend.key)
                let outcome = await attempt(context, response: response, trace: &trace)
                let elapsed = ContinuousClock.now - started
                switch outcome {
                case .served(let streamFailed):
                    health.finish(backend.key, failed: streamFailed, firstByte: trace.firstByteAt.map { $0 - started }, detection: backend.provider.outlierDetection)
                    trace.attempts.append(AttemptRecord(backend: backend.key.description, outcome: streamFailed ? (trace.errorCode ?? "stream_error") : "success", durationMilliseconds: elapsed.milliseconds))
                    metrics.recordAttempt(backend: backend.key, outcome: streamFailed ? "stream_error" : "success")
                    return
                case .failed(let failure):
                    if health.finish(backend.key, failed: failure.countsAgainstBackend, firstByte: nil, detection: backend.provider.outlierDetection) {
                        logger.warning("backend ejected", metadata: ["backend": "\(backend.key)", "after": "\(failure.label)"])
                    }
                    trace.attempts.append(AttemptRecord(backend: backend.key.description, outcome: failure.label, durationMilliseconds: elapsed.milliseconds))
                    metrics.recordAttempt(backend: backend.key, outcome: failure.label)
                    lastFailure = failure
                    guard let trigger = failure.trigger, ContinuousClock.now < deadline else { break candidates }
                    if route.spec.retry.on.contains(trigger) && attemptOnBackend < route.spec.retry.attempts {
                        if retryBudget.tryRetry(route: route.name, budgetPercent: route.spec.retry.budgetPercent) {
                            metrics.recordRetry(route: route.name, performed: true)
                            let pause = Self.backoff(attempt: attemptOnBackend, policy: route.spec.retry, retryAfter: failure.retryAfter)
                            guard ContinuousClock.now + pause < deadline else { break candidates }
                            try await Task.sleep(for: pause)
                            continue
                        }
                        metrics.recordRetry(route: route.name, performed: false)
                    }
                    if route.spec.fallbackOn.contains(trigger) { continue candidates }
                    break candidates
                }
            }
        }
        guard let failure = lastFailure else {
            throw SidecarError(.noRoute, "Every backend of route '\(route.name)' is ejected.")
        }
        try await deliver(failure, response: response, trace: &trace)
    }

    /// Sends the caller the last failure: the upstream's own answer when there is one, else the sidecar's error.
    private func deliver(_ failure: AttemptFailure, response: ResponseWriter, trace: inout RequestTrace) async throws {
        guard let reply = failure.reply else {
            throw failure.error ?? SidecarError(.upstreamUnreachable, "No backend could serve the request.")
        }
        trace.status = reply.status
        trace.errorCode = reply.status >= 400 ? "upstream_\(reply.status)" : failure.label
        var headers = Self.returnedHeaders(reply.headers)
        for (name, value) in trace.responseHeaders(attempts: trace.attempts.count) { headers.replaceOrAdd(name: name, value: value) }
        try await response.respond(status: reply.status, headers: headers, body: reply.body)
    }

    /// Full-jitter exponential backoff, or the provider's `retry-after` when it asks for longer.
    static func backoff(attempt: Int, policy: RetryPolicy, retryAfter: Duration?) -> Duration {
        let ceiling = min(policy.maxBackoff.milliseconds, policy.backoff.milliseconds << min(attempt - 1, 20))
        let jittered = Duration.milliseconds(Int64.random(in: 0...max(0, ceiling)))
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, policy.maxBackoff.duration * 4))
    }

    func respond(_ error: SidecarError, to response: ResponseWriter, trace: RequestTrace) async throws {
        var headers = Self.jsonHeaders(requestID: trace.requestID)
        headers.add(name: "x-llmesh-error", value: error.code.rawValue)
        if let seconds = error.retryAfterSeconds { headers.add(name: "retry-after", value: String(seconds)) }
        for (name, value) in trace.rateLimitHeaders + (trace.grant?.headers ?? []) { headers.replaceOrAdd(name: name, value: value) }
        if !trace.attempts.isEmpty { headers.add(name: "x-llmesh-attempts", value: String(trace.attempts.count)) }
        if trace.dialect == .anthropic { headers.add(name: "x-should-retry", value: error.status >= 500 ? "true" : "false") }
        if trace.dialect == .bedrock { headers.add(name: "x-amzn-errortype", value: error.awsErrorType) }
        try await response.respond(status: error.status, headers: headers, body: Array(error.body(for: trace.dialect).utf8))
    }

    private func finish(_ trace: RequestTrace) {
        let end = ContinuousClock.now
        let duration = end - trace.receivedAt
        let overhead = trace.overhead(endedAt: end)
        let ttfb = trace.firstByteAt.map { $0 - trace.receivedAt }
        if let kind = trace.kind, kind != .models {
            metrics.record(.init(
                operation: kind.operationName,
                provider: trace.provider ?? "",
                // Only routed names become label values: a caller must not be able to mint new series.
                requestModel: trace.route == nil ? "" : trace.model ?? "",
                responseModel: trace.upstreamModel ?? "",
                status: trace.status,
                errorType: trace.errorCode,
                usage: trace.usage,
                costUSD: trace.costUSD,
                duration: duration,
                timeToFirstToken: ttfb,
                overhead: overhead
            ))
        }
        accessLog.write(AccessLogRecord(
            timestamp: Self.timestamp(),
            requestID: trace.requestID,
            method: trace.method,
            path: String(trace.path.prefix { $0 != "?" }),
            api: trace.kind?.rawValue,
            status: trace.status,
            errorCode: trace.errorCode,
            model: trace.model,
            upstreamModel: trace.upstreamModel,
            route: trace.route,
            provider: trace.provider,
            stream: trace.stream,
            usage: trace.usage,
            costUSD: trace.costUSD,
            durationMilliseconds: duration.milliseconds,
            timeToFirstByteMilliseconds: ttfb?.milliseconds,
            overheadMicroseconds: overhead.microseconds,
            attempts: trace.attempts,
            caller: trace.grant?.caller,
            user: trace.grant?.user
        ))
    }
}
