import AsyncHTTPClient
import LLMeshModel
import LLMeshProviders
import NIOCore
import NIOHTTP1

extension LLMRequestHandler {
    /// Sends a complete successful answer with its usage headers.
    func sendSuccess(_ reply: BufferedReply, context: AttemptContext, response: ResponseWriter, trace: inout RequestTrace) async throws {
        trace.status = reply.status
        let usage: TokenUsage?
        switch context.kind {
        case .converse: usage = BedrockUsage.usage(inConverseResponse: reply.body)
        case .invoke: usage = BedrockUsage.usage(inInvokeResponse: reply.body, headers: reply.headers.map { ($0.name, $0.value) })
        default: usage = UsageReader.usage(inResponse: reply.body, kind: context.kind)
        }
        if let usage {
            trace.usage = usage
            trace.costUSD = usage.cost(at: context.pricing)
        }
        var headers = Self.returnedHeaders(reply.headers)
        for (name, value) in trace.responseHeaders() { headers.replaceOrAdd(name: name, value: value) }
        try await response.respond(status: reply.status, headers: headers, body: reply.body)
    }

    /// The error that ends a stream which broke after it started.
    static func midStreamError(_ error: any Error, provider: String) -> SidecarError {
        if let client = error as? HTTPClientError, client == .readTimeout || client == .deadlineExceeded {
            return SidecarError(.upstreamTimeout, "The stream from provider '\(provider)' went silent past its timeout.")
        }
        if let plain = error as? PlainHTTPError, case .idleTimeout = plain {
            return SidecarError(.upstreamTimeout, "The stream from provider '\(provider)' went silent past its timeout.")
        }
        if let plain = error as? PlainHTTPError, case .deadlineExceeded = plain {
            return SidecarError(.upstreamTimeout, "The stream from provider '\(provider)' ran past the request timeout.")
        }
        return SidecarError(.upstreamProtocolError, "The stream from provider '\(provider)' broke after it started: \(String(describing: error).prefix(160)).")
    }

    /// Relays a stream chunk by chunk through `framing`, reading usage on the way. Returns whether the stream broke.
    ///
    /// Once the head is written nothing can be retried; a broken upstream ends the stream with an error event in
    /// the caller's framing, so SDKs raise instead of returning a silently truncated answer.
    func relayStream<Rest: AsyncIteratorProtocol, Framing: StreamFraming>(
        status: Int,
        headers: HTTPHeaders,
        first: ByteBuffer?,
        rest: inout Rest,
        framing: inout Framing,
        context: AttemptContext,
        response: ResponseWriter,
        trace: inout RequestTrace
    ) async throws -> Bool where Rest.Element == ByteBuffer {
        trace.status = status
        var headers = headers
        for (name, value) in trace.streamHeaders() { headers.replaceOrAdd(name: name, value: value) }
        headers.replaceOrAdd(name: "cache-control", value: "no-cache")
        try await response.writeHead(status: status, headers: headers)
        var streamError: SidecarError?

        func forward(_ chunk: ByteBuffer) async throws {
            let out = framing.feed(chunk.readableBytesView)
            if !out.isEmpty {
                if trace.firstByteAt == nil { trace.firstByteAt = .now }
                try await response.writeBody(out)
            }
        }

        if let first { try await forward(first) }
        do {
            while let chunk = try await rest.next() { try await forward(chunk) }
        } catch where Self.isClientGone(error) {
            throw error
        } catch {
            streamError = Self.midStreamError(error, provider: context.backend.providerName)
        }
        trace.upstreamFinishedAt = .now
        try await response.writeBody(framing.finish())
        if let reported = framing.upstreamFailure {
            // The upstream's own error event already reached the caller in its dialect.
            trace.errorCode = reported.code.rawValue
        } else {
            if streamError == nil && !framing.sawEnd {
                streamError = SidecarError(.upstreamProtocolError, "The upstream stream from '\(context.backend.providerName)' ended before its final event.")
            }
            if let streamError {
                trace.errorCode = streamError.code.rawValue
                // When the answer was complete and the framing closed the caller's stream itself, an error event
                // after that close would make SDKs raise on a whole answer; the break is only logged.
                if !framing.sawEnd { try await response.writeBody(framing.errorEvent(streamError)) }
            }
        }
        if let usage = framing.usage {
            trace.usage = usage
            trace.costUSD = usage.cost(at: context.pricing)
            try await response.writeBody(framing.usageTrailer(usage, costUSD: trace.costUSD))
        }
        try await response.end()
        return streamError != nil || framing.upstreamFailure != nil
    }
}
