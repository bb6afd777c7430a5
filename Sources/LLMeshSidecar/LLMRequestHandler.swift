import AsyncHTTPClient
import Foundation
import LLMeshModel
import LLMeshProviders
import Logging
import NIOCore
import NIOHTTP1

/// The app listener's handler: the request path of a sidecar, from a parsed request to an accounted answer.
///
/// Steps: classify the API by path, read the routing fields of the body, resolve the route and backend,
/// attach the provider credential, forward (or answer from the Mock provider), relay the answer while reading
/// its usage, and record the access log line and metrics. Every failure made here answers in the caller's
/// dialect with a stable code.
public struct LLMRequestHandler: HTTPRequestHandler {
    let settings: SidecarSettings
    let store: PolicyStore
    let credentials: CredentialStore
    let upstreams: UpstreamClients
    let metrics: SidecarMetrics
    let accessLog: AccessLog
    let logger: Logger
    let selector = BackendSelector()

    public init(settings: SidecarSettings, store: PolicyStore, credentials: CredentialStore, upstreams: UpstreamClients, metrics: SidecarMetrics, accessLog: AccessLog, logger: Logger) {
        self.settings = settings
        self.store = store
        self.credentials = credentials
        self.upstreams = upstreams
        self.metrics = metrics
        self.accessLog = accessLog
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
        metrics.inFlight(-1)
        finish(trace)
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
        let inspected = try InspectedRequest(body: Array(request.body.readableBytesView), kind: kind)
        trace.model = inspected.model
        trace.stream = inspected.stream
        guard let route = policy.route(for: inspected.model) else {
            throw SidecarError(.modelNotFound, "The model '\(inspected.model)' does not exist or is not routed by llmesh. Routed models: \(policy.exposedModels.joined(separator: ", ")).", parameter: "model")
        }
        trace.route = route.name
        guard let backend = selector.pick(from: route) else {
            throw SidecarError(.noRoute, "Route '\(route.name)' has no usable backend.")
        }
        trace.provider = backend.providerName
        trace.upstreamModel = backend.upstreamModel
        guard backend.provider.type.speaks(kind.dialect) else {
            throw SidecarError(.dialectMismatch, "Route '\(route.name)' sends '\(inspected.model)' to \(backend.provider.type.rawValue) provider '\(backend.providerName)', which does not serve the \(kind.dialect == .openAI ? "OpenAI" : "Anthropic") \(kind.rawValue) API.")
        }
        let injectUsage = inspected.stream && (kind == .chatCompletions || kind == .completions) && !inspected.includeUsageRequested
            && backend.provider.type.reportsStreamUsageOnRequest
        let pricing = backend.provider.pricing(for: backend.upstreamModel)

        if backend.provider.type == .mock {
            let mock = MockResponder(settings: backend.provider.mock ?? MockSettings())
            let answer = mock.answer(inspected, kind: kind, model: backend.upstreamModel, includeUsage: inspected.includeUsageRequested || injectUsage, requestID: trace.requestID, created: Int(Date().timeIntervalSince1970))
            trace.upstreamStartedAt = .now
            let latency = mock.settings.latency?.duration ?? .zero
            switch answer {
            case .json(let body):
                if latency > .zero { try await Task.sleep(for: latency) }
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json")
                try await relay(status: 200, upstreamHeaders: headers, body: MockBody(chunks: [body], initialDelay: .zero, chunkDelay: .zero), kind: kind, hideInjectedUsage: false, pricing: pricing, response: response, trace: &trace)
            case .stream(let events):
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
                let body = MockBody(chunks: events, initialDelay: latency, chunkDelay: mock.settings.chunkDelay?.duration ?? .zero)
                try await relay(status: 200, upstreamHeaders: headers, body: body, kind: kind, hideInjectedUsage: injectUsage, pricing: pricing, response: response, trace: &trace)
            }
            return
        }

        guard let endpoint = backend.provider.effectiveEndpoint, let url = URLParts(endpoint + kind.upstreamPath) else {
            throw SidecarError(.internalError, "Provider '\(backend.providerName)' has no usable endpoint.")
        }
        var upstream = HTTPClientRequest(url: url.text)
        upstream.method = .POST
        upstream.headers = Self.forwardedHeaders(request.head.headers)
        if let source = backend.provider.auth?.apiKey {
            switch credentials.key(for: source) {
            case .success(let key):
                if backend.provider.type == .anthropic {
                    upstream.headers.add(name: "x-api-key", value: key)
                } else {
                    upstream.headers.add(name: "authorization", value: "Bearer \(key)")
                }
            case .failure(let unavailable):
                logger.error("provider credential unavailable", metadata: ["provider": "\(backend.providerName)", "reason": "\(unavailable.reason)"])
                throw SidecarError(.credentialUnavailable, "The credential for provider '\(backend.providerName)' is unavailable.")
            }
        }
        if backend.provider.type == .anthropic && !upstream.headers.contains(name: "anthropic-version") {
            upstream.headers.add(name: "anthropic-version", value: "2023-06-01")
        }
        let body = inspected.upstreamBody(model: backend.upstreamModel, forceIncludeUsage: injectUsage)
        upstream.body = .bytes(ByteBuffer(bytes: body))

        let timeouts = backend.provider.timeouts
        let requestTimeout = route.spec.timeout ?? timeouts.request ?? settings.defaultTimeouts.request ?? .seconds(600)
        let idleTimeout = route.spec.streamIdleTimeout ?? timeouts.streamIdle ?? settings.defaultTimeouts.streamIdle ?? .seconds(120)
        let connectTimeout = timeouts.connect ?? settings.defaultTimeouts.connect ?? .seconds(10)
        let client = upstreams.client(scheme: url.scheme, host: url.host, connectTimeout: connectTimeout, idleTimeout: idleTimeout)

        trace.upstreamStartedAt = .now
        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await client.execute(upstream, deadline: .now() + .milliseconds(requestTimeout.milliseconds), logger: nil)
        } catch {
            trace.upstreamFinishedAt = .now
            throw Self.translate(error, provider: backend.providerName, timeout: requestTimeout)
        }
        try await relay(
            status: Int(upstreamResponse.status.code),
            upstreamHeaders: upstreamResponse.headers,
            body: upstreamResponse.body,
            kind: kind,
            hideInjectedUsage: injectUsage,
            pricing: pricing,
            response: response,
            trace: &trace,
            providerName: backend.providerName,
            requestTimeout: requestTimeout
        )
    }

    /// Sends the upstream's answer on: buffered when it is plain JSON (to read usage first), event by event when
    /// it is a stream.
    private func relay<Body: AsyncSequence>(
        status: Int,
        upstreamHeaders: HTTPHeaders,
        body: Body,
        kind: APIKind,
        hideInjectedUsage: Bool,
        pricing: ModelPricing?,
        response: ResponseWriter,
        trace: inout RequestTrace,
        providerName: String = "mock",
        requestTimeout: TimeSpan = .seconds(600)
    ) async throws where Body.Element == ByteBuffer {
        var headers = Self.returnedHeaders(upstreamHeaders)
        let isEventStream = upstreamHeaders.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") ?? false
        trace.status = status
        if status >= 400 { trace.errorCode = "upstream_\(status)" }

        guard isEventStream && (200..<300).contains(status) else {
            var collected: [UInt8] = []
            do {
                for try await chunk in body {
                    if trace.firstByteAt == nil { trace.firstByteAt = .now }
                    collected.append(contentsOf: chunk.readableBytesView)
                    if collected.count > settings.maximumResponseBodyBytes {
                        throw SidecarError(.upstreamResponseTooLarge, "The upstream answer is larger than \(settings.maximumResponseBodyBytes) bytes.")
                    }
                }
            } catch let error as SidecarError {
                trace.upstreamFinishedAt = .now
                throw error
            } catch {
                trace.upstreamFinishedAt = .now
                throw Self.translate(error, provider: providerName, timeout: requestTimeout)
            }
            trace.upstreamFinishedAt = .now
            if (200..<300).contains(status), let usage = UsageReader.usage(inResponse: collected, kind: kind) {
                trace.usage = usage
                trace.costUSD = usage.cost(at: pricing)
            }
            for (name, value) in trace.usageHeaders() { headers.replaceOrAdd(name: name, value: value) }
            try await response.respond(status: status, headers: headers, body: collected)
            return
        }

        headers.replaceOrAdd(name: "x-llmesh-request-id", value: trace.requestID)
        if let provider = trace.provider { headers.replaceOrAdd(name: "x-llmesh-provider", value: provider) }
        headers.replaceOrAdd(name: "cache-control", value: "no-cache")
        try await response.writeHead(status: status, headers: headers)
        var decoder = SSEDecoder()
        var accounting = StreamAccounting(kind: kind, hideInjectedUsage: hideInjectedUsage)
        var streamError: SidecarError?
        do {
            for try await chunk in body {
                var out: [UInt8] = []
                for item in decoder.feed(chunk.readableBytesView) {
                    switch item {
                    case .event(let event):
                        if let bytes = accounting.process(event) { out.append(contentsOf: bytes) }
                    case .unparsed(let bytes):
                        out.append(contentsOf: bytes)
                    }
                }
                if !out.isEmpty {
                    if trace.firstByteAt == nil { trace.firstByteAt = .now }
                    try await response.writeBody(out)
                }
            }
        } catch let error as SidecarError {
            streamError = error
        } catch where Self.isClientGone(error) {
            throw error
        } catch {
            streamError = Self.translate(error, provider: providerName, timeout: requestTimeout)
        }
        trace.upstreamFinishedAt = .now
        try await response.writeBody(decoder.finish())
        if streamError == nil && !accounting.sawEnd && kind != .responses {
            streamError = SidecarError(.upstreamProtocolError, "The upstream stream from '\(providerName)' ended before its final event.")
        }
        if let streamError {
            trace.errorCode = streamError.code.rawValue
            try await response.writeBody(Self.streamErrorEvent(streamError, dialect: trace.dialect))
        }
        if let usage = accounting.usage {
            trace.usage = usage
            trace.costUSD = usage.cost(at: pricing)
            try await response.writeBody(StreamAccounting.usageComment(usage, costUSD: trace.costUSD))
        }
        try await response.end()
    }

    private func respond(_ error: SidecarError, to response: ResponseWriter, trace: RequestTrace) async throws {
        var headers = Self.jsonHeaders(requestID: trace.requestID)
        headers.add(name: "x-llmesh-error", value: error.code.rawValue)
        if trace.dialect == .anthropic { headers.add(name: "x-should-retry", value: error.status >= 500 ? "true" : "false") }
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
            overheadMicroseconds: overhead.microseconds
        ))
    }
}

extension LLMRequestHandler {
    /// Request headers never sent upstream: hop-by-hop headers, the app's own credentials, and headers the
    /// sidecar sets itself.
    static let droppedRequestHeaders: Set<String> = [
        "host", "content-length", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "transfer-encoding",
        "te", "trailer", "upgrade", "expect", "accept-encoding", "authorization", "x-api-key", "api-key",
        "openai-organization", "openai-project", "x-goog-api-key",
    ]

    /// Upstream response headers not passed back: hop-by-hop headers and framing the sidecar redoes.
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length",
    ]

    static func forwardedHeaders(_ incoming: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in incoming {
            let lower = name.lowercased()
            if droppedRequestHeaders.contains(lower) || lower.hasPrefix("x-llmesh-") { continue }
            headers.add(name: name, value: value)
        }
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        headers.replaceOrAdd(name: "accept-encoding", value: "identity")
        return headers
    }

    static func returnedHeaders(_ upstream: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in upstream where !droppedResponseHeaders.contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        return headers
    }

    static func jsonHeaders(requestID: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-llmesh-request-id", value: requestID)
        return headers
    }

    /// Before the path says which API a request is for, an `anthropic-version` header is the best hint.
    static func guessDialect(_ head: HTTPRequestHead) -> APIDialect {
        head.headers.contains(name: "anthropic-version") || head.uri.hasPrefix("/v1/messages") ? .anthropic : .openAI
    }

    /// Maps a client error to the answer the caller gets.
    static func translate(_ error: any Error, provider: String, timeout: TimeSpan) -> SidecarError {
        if let error = error as? SidecarError { return error }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout:
                return SidecarError(.upstreamTimeout, "Connecting to provider '\(provider)' timed out.")
            case .deadlineExceeded:
                return SidecarError(.upstreamTimeout, "Provider '\(provider)' did not answer within \(timeout).")
            case .readTimeout:
                return SidecarError(.upstreamTimeout, "Provider '\(provider)' went silent for longer than the stream idle timeout.")
            default:
                return SidecarError(.upstreamUnreachable, "Provider '\(provider)' could not be reached: \(client.shortDescription).")
            }
        }
        if error is CancellationError {
            return SidecarError(.upstreamTimeout, "The request to provider '\(provider)' was cancelled.")
        }
        return SidecarError(.upstreamUnreachable, "Provider '\(provider)' could not be reached: \(String(describing: error).prefix(200)).")
    }

    static func isClientGone(_ error: any Error) -> Bool {
        error is IOError || error is ChannelError || (error as? NIOAsyncWriterError) != nil
    }

    /// The error event that ends a broken stream, in the caller's dialect, so SDKs raise instead of ending cleanly.
    static func streamErrorEvent(_ error: SidecarError, dialect: APIDialect) -> [UInt8] {
        switch dialect {
        case .openAI:
            return Array("data: \(error.body(for: .openAI))\n\n".utf8)
        case .anthropic:
            return Array("event: error\ndata: \(error.body(for: .anthropic))\n\n".utf8)
        }
    }

    static func makeRequestID() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// RFC 3339 UTC time with milliseconds, formatted by hand: Foundation's formatters cost microseconds a call.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(spec.tv_nsec / 1_000_000), 3))Z"
    }
}

extension HTTPClientError {
    var shortDescription: String { String(describing: self).prefix(160).description }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    var microseconds: Double { Double(components.seconds) * 1_000_000 + Double(components.attoseconds) / 1e12 }
}

/// The parts of an upstream URL the client pool needs.
struct URLParts {
    var text: String
    var scheme: String
    var host: String

    init?(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var authority = text[schemeEnd.upperBound...].prefix { $0 != "/" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        guard !host.isEmpty else { return nil }
        self.text = text
        self.scheme = scheme
        self.host = String(host)
    }
}
