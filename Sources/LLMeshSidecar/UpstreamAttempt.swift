import AsyncHTTPClient
import Foundation
import LLMeshModel
import LLMeshProviders
import NIOCore
import NIOHTTP1

/// Everything one attempt needs to know about the request and where it goes.
struct AttemptContext: Sendable {
    var kind: APIKind
    var route: ResolvedRoute
    var backend: ResolvedBackend
    /// How the backend serves the operation (as is, or translated), decided once per backend.
    var fit: BackendFit
    var inspected: InspectedRequest
    var incomingHeaders: HTTPHeaders
    /// The route's total deadline, shared by all attempts.
    var deadline: ContinuousClock.Instant
    var totalTimeout: TimeSpan

    /// Whether the sidecar asks for stream usage the caller did not ask for.
    var injectUsage: Bool {
        inspected.stream && (kind == .chatCompletions || kind == .completions) && !inspected.includeUsageRequested
            && backend.provider.type.reportsStreamUsageOnRequest
    }

    var pricing: ModelPricing? { backend.provider.pricing(for: backend.upstreamModel) }
}

/// Raised when no response byte arrived within the route's `firstTokenTimeout`.
struct FirstByteTimeout: Error {}

extension LLMRequestHandler {
    /// One attempt against one backend. Nothing reaches the caller unless the attempt is a success (or a failure
    /// the route does not retry, which the caller then sees as is); the commit point of a stream is its first chunk.
    func attempt(_ context: AttemptContext, response: ResponseWriter, trace: inout RequestTrace) async -> AttemptOutcome {
        let backend = context.backend
        trace.provider = backend.providerName
        trace.upstreamModel = backend.upstreamModel
        if trace.upstreamStartedAt == nil { trace.upstreamStartedAt = .now }
        do {
            if backend.provider.type == .mock {
                return try await answerFromMock(context, response: response, trace: &trace)
            }
            return try await forward(context, response: response, trace: &trace)
        } catch let failure as AttemptFailureError {
            trace.upstreamFinishedAt = .now
            return .failed(failure.failure)
        } catch {
            // A write to the caller failed: the caller is gone; nothing to retry for.
            trace.upstreamFinishedAt = .now
            trace.errorCode = "client_closed"
            if trace.status == 0 { trace.status = 499 }
            return .served(streamFailed: false)
        }
    }

    private func answerFromMock(_ context: AttemptContext, response: ResponseWriter, trace: inout RequestTrace) async throws -> AttemptOutcome {
        let mock = MockResponder(settings: context.backend.provider.mock ?? MockSettings())
        let answer = mock.answer(context.inspected, kind: context.kind, model: context.backend.upstreamModel, includeUsage: context.inspected.includeUsageRequested || context.injectUsage, requestID: trace.requestID, created: Int(Date().timeIntervalSince1970))
        let latency = mock.settings.latency?.duration ?? .zero
        switch answer {
        case .json(let body):
            if latency > .zero { try await Task.sleep(for: latency) }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            trace.firstByteAt = .now
            trace.upstreamFinishedAt = .now
            try await sendSuccess(BufferedReply(status: 200, headers: headers, body: body), context: context, response: response, trace: &trace)
            return .served(streamFailed: false)
        case .stream(let events):
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
            var iterator = MockBody(chunks: events, initialDelay: latency, chunkDelay: mock.settings.chunkDelay?.duration ?? .zero).makeAsyncIterator()
            let first = try await iterator.next()
            var framing = SSEPassThrough(kind: context.kind, hideInjectedUsage: context.injectUsage)
            let failed = try await relayStream(status: 200, headers: headers, first: first, rest: &iterator, framing: &framing, context: context, response: response, trace: &trace)
            return .served(streamFailed: failed)
        }
    }

    private func forward(_ context: AttemptContext, response: ResponseWriter, trace: inout RequestTrace) async throws -> AttemptOutcome {
        let backend = context.backend
        var exchange = try makeExchange(context)
        let timeouts = backend.provider.timeouts
        let attemptTimeout = min(timeouts.request ?? context.totalTimeout, context.totalTimeout)
        let idleTimeout = context.route.spec.streamIdleTimeout ?? timeouts.streamIdle ?? settings.defaultTimeouts.streamIdle ?? .seconds(120)
        let connectTimeout = timeouts.connect ?? settings.defaultTimeouts.connect ?? .seconds(10)
        let nioDeadline = NIODeadline.now() + .nanoseconds(Int64(min(attemptTimeout.duration, context.deadline - .now).nanosecondsClamped))
        let firstByteLimit = context.route.spec.firstTokenTimeout?.duration

        // A Bedrock answer saying the credentials expired or are unknown gets one retry with fresh ones: the role's
        // session may have been revoked or rotated before its stated expiry.
        for signingPass in 0..<2 {
            try await signIfNeeded(&exchange, provider: backend.providerName)
            let url = exchange.url
            let body = ByteBuffer(bytes: exchange.body)
            var headers = exchange.headers
            // Send, and wait for the head and the first chunk: the attempt's commit point. Plain HTTP without a proxy
            // goes through the lean pooled client; TLS and proxied upstreams through AsyncHTTPClient (ALPN, HTTP/2, CONNECT).
            if url.scheme == "http" && upstreams.proxy.server(forScheme: "http", host: url.host) == nil {
                headers.replaceOrAdd(name: "host", value: url.authority)
                headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
                let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.pathAndQuery, headers: headers)
                let plain = upstreams.plain
                let started: (head: HTTPResponseHead, rest: PlainHTTPBody, first: ByteBuffer?)
                do {
                    let host = url.host, port = url.port
                    let connectAmount = TimeAmount.milliseconds(connectTimeout.milliseconds), idleAmount = TimeAmount.milliseconds(idleTimeout.milliseconds)
                    let handOver: HandOver<(head: HTTPResponseHead, rest: PlainHTTPBody, first: ByteBuffer?)> = try await Self.withFirstByteDeadline(firstByteLimit) { () async throws -> HandOver<(head: HTTPResponseHead, rest: PlainHTTPBody, first: ByteBuffer?)> in
                        let reply = try await plain.execute(host: host, port: port, head: head, body: body, connectTimeout: connectAmount, idleTimeout: idleAmount, deadline: nioDeadline)
                        var rest = reply.body
                        let first = try await rest.next()
                        return HandOver((head: reply.head, rest: rest, first: first))
                    }
                    started = handOver.value
                } catch {
                    throw AttemptFailureError(Self.classifyTransportError(error, provider: backend.providerName, timeout: attemptTimeout))
                }
                var rest = started.rest
                defer { rest.abandon() }
                var first = started.first
                let status = Int(started.head.status.code)
                if signingPass == 0, try await Self.credentialsWereRejected(status: status, first: &first, rest: &rest, exchange: exchange) { continue }
                return try await complete(status: status, headers: started.head.headers, first: first, rest: &rest, exchange: exchange, context: context, attemptTimeout: attemptTimeout, response: response, trace: &trace)
            }

            var upstream = HTTPClientRequest(url: url.text)
            upstream.method = .POST
            // AsyncHTTPClient writes host and content-length itself (the signature covers the same values).
            headers.remove(name: "host")
            headers.remove(name: "content-length")
            upstream.headers = headers
            upstream.body = .bytes(body)
            let client = upstreams.client(scheme: url.scheme, host: url.host, connectTimeout: connectTimeout, idleTimeout: idleTimeout)
            let request = upstream
            let started: (response: HTTPClientResponse, rest: HTTPClientResponse.Body.AsyncIterator, first: ByteBuffer?)
            do {
                let handOver: HandOver<(response: HTTPClientResponse, rest: HTTPClientResponse.Body.AsyncIterator, first: ByteBuffer?)> = try await Self.withFirstByteDeadline(firstByteLimit) { () async throws -> HandOver<(response: HTTPClientResponse, rest: HTTPClientResponse.Body.AsyncIterator, first: ByteBuffer?)> in
                    let reply = try await client.execute(request, deadline: nioDeadline, logger: nil)
                    var iterator = reply.body.makeAsyncIterator()
                    let first = try await iterator.next()
                    return HandOver((response: reply, rest: iterator, first: first))
                }
                started = handOver.value
            } catch {
                throw AttemptFailureError(Self.classifyTransportError(error, provider: backend.providerName, timeout: attemptTimeout))
            }
            var rest = started.rest
            var first = started.first
            let status = Int(started.response.status.code)
            if signingPass == 0, try await Self.credentialsWereRejected(status: status, first: &first, rest: &rest, exchange: exchange) { continue }
            return try await complete(status: status, headers: started.response.headers, first: first, rest: &rest, exchange: exchange, context: context, attemptTimeout: attemptTimeout, response: response, trace: &trace)
        }
        throw AttemptFailureError(.sidecar(SidecarError(.credentialUnavailable, "Bedrock refused the credentials of provider '\(backend.providerName)' twice."), trigger: .connectFailure, countsAgainstBackend: false))
    }

    /// Whether a signed request got a 403 saying its credentials are stale; then the cached credentials are dropped so
    /// the next pass signs with fresh ones. Reading the error body to decide leaves it in `first` for the caller.
    static func credentialsWereRejected<Rest: AsyncIteratorProtocol>(status: Int, first: inout ByteBuffer?, rest: inout Rest, exchange: UpstreamExchange) async throws -> Bool where Rest.Element == ByteBuffer {
        guard let signing = exchange.signing, status == 403 else { return false }
        first = try await drain(first: first, rest: &rest, limit: 64 * 1024)
        guard rejectsCredentials(first) else { return false }
        signing.resolver.invalidate()
        return true
    }

    /// Reads the rest of a small answer into one buffer (an error body, at most `limit` bytes are kept).
    static func drain<Rest: AsyncIteratorProtocol>(first: ByteBuffer?, rest: inout Rest, limit: Int) async throws -> ByteBuffer? where Rest.Element == ByteBuffer {
        var collected = first ?? ByteBuffer()
        do {
            while var chunk = try await rest.next() {
                if collected.readableBytes < limit { collected.writeBuffer(&chunk) }
            }
        } catch {
            throw AttemptFailureError(.sidecar(SidecarError(.upstreamProtocolError, "The upstream error answer broke off: \(String(describing: error).prefix(160))."), trigger: .connectFailure, countsAgainstBackend: true))
        }
        return collected
    }

    /// Whether a Bedrock 403 says the credentials themselves are stale (not a missing permission).
    static func rejectsCredentials(_ body: ByteBuffer?) -> Bool {
        guard let body else { return false }
        let text = String(decoding: body.readableBytesView.prefix(8192), as: UTF8.self)
        return ["ExpiredToken", "UnrecognizedClient", "security token included in the request is expired", "security token included in the request is invalid"].contains { text.contains($0) }
    }

    /// Everything after the head: relay a stream, or read the whole answer, classify it, and send it or fail over.
    private func complete<Rest: AsyncIteratorProtocol>(
        status: Int,
        headers: HTTPHeaders,
        first: ByteBuffer?,
        rest: inout Rest,
        exchange: UpstreamExchange,
        context: AttemptContext,
        attemptTimeout: TimeSpan,
        response: ResponseWriter,
        trace: inout RequestTrace
    ) async throws -> AttemptOutcome where Rest.Element == ByteBuffer {
        trace.firstByteAt = trace.firstByteAt ?? .now
        let contentType = headers.first(name: "content-type")?.lowercased() ?? ""
        if (200..<300).contains(status) && (contentType.hasPrefix("text/event-stream") || contentType.hasPrefix("application/vnd.amazon.eventstream")) {
            let failed: Bool
            let isEventStream = contentType.hasPrefix("application/vnd.amazon.eventstream")
            if let translation = exchange.translation {
                let translator = StreamTranslator(from: translation.upstream, to: translation.caller, requestModel: context.inspected.model, includeUsage: context.inspected.includeUsageRequested, id: trace.requestID, created: Int(Date().timeIntervalSince1970))
                var callerHeaders = HTTPHeaders()
                callerHeaders.add(name: "content-type", value: "text/event-stream; charset=utf-8")
                if isEventStream {
                    var framing = TranslatedEventStream(translator: translator, dialect: context.kind.dialect)
                    failed = try await relayStream(status: status, headers: callerHeaders, first: first, rest: &rest, framing: &framing, context: context, response: response, trace: &trace)
                } else {
                    var framing = TranslatedSSE(translator: translator, dialect: context.kind.dialect)
                    failed = try await relayStream(status: status, headers: callerHeaders, first: first, rest: &rest, framing: &framing, context: context, response: response, trace: &trace)
                }
            } else if isEventStream {
                var framing = EventStreamPassThrough()
                failed = try await relayStream(status: status, headers: Self.returnedHeaders(headers), first: first, rest: &rest, framing: &framing, context: context, response: response, trace: &trace)
            } else {
                var framing = SSEPassThrough(kind: context.kind, hideInjectedUsage: context.injectUsage)
                failed = try await relayStream(status: status, headers: Self.returnedHeaders(headers), first: first, rest: &rest, framing: &framing, context: context, response: response, trace: &trace)
            }
            return .served(streamFailed: failed)
        }
        var body: [UInt8] = first.map { Array($0.readableBytesView) } ?? []
        do {
            while let chunk = try await rest.next() {
                body.append(contentsOf: chunk.readableBytesView)
                if body.count > settings.maximumResponseBodyBytes {
                    throw AttemptFailureError(.sidecar(SidecarError(.upstreamResponseTooLarge, "The upstream answer is larger than \(settings.maximumResponseBodyBytes) bytes."), trigger: nil, countsAgainstBackend: false))
                }
            }
        } catch let failure as AttemptFailureError {
            throw failure
        } catch {
            throw AttemptFailureError(Self.classifyTransportError(error, provider: context.backend.providerName, timeout: attemptTimeout))
        }
        trace.upstreamFinishedAt = .now
        var reply = BufferedReply(status: status, headers: headers, body: body)
        if let translation = exchange.translation {
            reply = try translateReply(reply, translation: translation, context: context, trace: trace)
        }
        if let failure = AttemptFailure.classify(reply, checkRefusal: context.route.spec.fallbackOn.contains(.contentFilter)) {
            throw AttemptFailureError(failure)
        }
        try await sendSuccess(reply, context: context, response: response, trace: &trace)
        return .served(streamFailed: false)
    }

    /// Re-shapes a complete upstream answer, success or error, into the caller's schema.
    private func translateReply(_ reply: BufferedReply, translation: SchemaTranslation, context: AttemptContext, trace: RequestTrace) throws -> BufferedReply {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        for name in ["retry-after", "retry-after-ms", "x-request-id", "request-id", "x-amzn-requestid"] {
            if let value = reply.headers.first(name: name) { headers.add(name: name, value: value) }
        }
        guard (200..<300).contains(reply.status) else {
            let body = ResponseTranslator.translateError(status: reply.status, headers: reply.headers.map { ($0.name, $0.value) }, body: reply.body, from: translation.upstream, to: translation.caller)
            return BufferedReply(status: reply.status, headers: headers, body: body)
        }
        do {
            let translated = try ResponseTranslator.translate(reply.body, from: translation.upstream, to: translation.caller, requestModel: context.inspected.model, id: trace.requestID, created: Int(Date().timeIntervalSince1970))
            return BufferedReply(status: reply.status, headers: headers, body: translated.body)
        } catch {
            throw AttemptFailureError(.sidecar(SidecarError(.upstreamProtocolError, "The answer of provider '\(context.backend.providerName)' could not be translated: \(error.message)"), trigger: .serverError, countsAgainstBackend: true))
        }
    }

    /// Runs `operation`, failing with ``FirstByteTimeout`` if it takes longer than `limit` (no limit: runs it as is).
    static func withFirstByteDeadline<T: Sendable>(_ limit: Duration?, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let limit else { return try await operation() }
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw FirstByteTimeout()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw FirstByteTimeout() }
            return first
        }
    }

    /// Maps a failure to send or to receive the head into a retry trigger and the caller's error.
    static func classifyTransportError(_ error: any Error, provider: String, timeout: TimeSpan) -> AttemptFailure {
        if error is FirstByteTimeout {
            return .sidecar(SidecarError(.upstreamTimeout, "Provider '\(provider)' sent no response byte within the route's firstTokenTimeout."), trigger: .firstTokenTimeout, countsAgainstBackend: true)
        }
        let translated = translate(error, provider: provider, timeout: timeout)
        if let client = error as? HTTPClientError, client == .deadlineExceeded || client == .readTimeout {
            return .sidecar(translated, trigger: .timeout, countsAgainstBackend: true)
        }
        if let plain = error as? PlainHTTPError {
            switch plain {
            case .deadlineExceeded, .idleTimeout:
                return .sidecar(translated, trigger: .timeout, countsAgainstBackend: true)
            default:
                break
            }
        }
        return .sidecar(translated, trigger: .connectFailure, countsAgainstBackend: true)
    }
}

/// Moves a value out of the child task that produced it.
///
/// `@unchecked Sendable` holds because the value is used by one task at a time: the child task that creates it
/// finishes before the task group returns it, and only the parent touches it afterwards. AsyncHTTPClient's body
/// iterator is not `Sendable` for exactly this reason (no concurrent `next()`), which this hand-over respects.
struct HandOver<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// Carries an ``AttemptFailure`` through `throws`.
struct AttemptFailureError: Error {
    var failure: AttemptFailure

    init(_ failure: AttemptFailure) {
        self.failure = failure
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero and at `Int64.max`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
