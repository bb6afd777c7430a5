import AsyncHTTPClient
import Foundation
import LLMeshModel
import LLMeshProviders
import NIOCore
import NIOHTTP1

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
        if head.uri.hasPrefix("/model/") { return .bedrock }
        return head.headers.contains(name: "anthropic-version") || head.uri.hasPrefix("/v1/messages") ? .anthropic : .openAI
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
        if let plain = error as? PlainHTTPError {
            switch plain {
            case .connectTimeout:
                return SidecarError(.upstreamTimeout, "Connecting to provider '\(provider)' timed out.")
            case .deadlineExceeded:
                return SidecarError(.upstreamTimeout, "Provider '\(provider)' did not answer within \(timeout).")
            case .idleTimeout:
                return SidecarError(.upstreamTimeout, "Provider '\(provider)' went silent for longer than the stream idle timeout.")
            default:
                return SidecarError(.upstreamUnreachable, "Provider '\(provider)' could not be reached: \(plain).")
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
        let pad = ZeroPadding.pad
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
    /// The explicit port, or the scheme's default.
    var port: Int
    /// Everything after the authority, `/` at least.
    var pathAndQuery: String
    /// The `host` header value: the authority as written, without user info.
    var authority: String

    /// Parses on UTF-8 bytes: every delimiter is ASCII, and this runs for every upstream request.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count >= colon + 3,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else { return nil }
        let scheme = string(0..<colon).lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let authorityEnd = bytes[(colon + 3)...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
        var authorityStart = colon + 3
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { authorityStart = at + 1 }
        let authority = authorityStart..<authorityEnd
        let host: Range<Int>
        var portStart: Int?
        if bytes[authority].first == UInt8(ascii: "["), let close = bytes[authority].firstIndex(of: UInt8(ascii: "]")) {
            host = (authority.lowerBound + 1)..<close
            if close + 1 < authorityEnd {
                guard bytes[close + 1] == UInt8(ascii: ":") else { return nil }
                portStart = close + 2
            }
        } else {
            let hostEnd = bytes[authority].firstIndex(of: UInt8(ascii: ":")) ?? authorityEnd
            host = authority.lowerBound..<hostEnd
            if hostEnd < authorityEnd { portStart = hostEnd + 1 }
        }
        guard !host.isEmpty else { return nil }
        var port = scheme == "https" ? 443 : 80
        if let portStart {
            guard let explicit = Int(string(portStart..<authorityEnd)), (1...65535).contains(explicit) else { return nil }
            port = explicit
        }
        self.text = text
        self.scheme = scheme
        self.host = string(host)
        self.port = port
        self.pathAndQuery = authorityEnd < bytes.count ? string(authorityEnd..<bytes.count) : "/"
        self.authority = string(authority)
    }
}

/// Fixed-width decimal fields for hand-formatted timestamps.
enum ZeroPadding {
    static func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
