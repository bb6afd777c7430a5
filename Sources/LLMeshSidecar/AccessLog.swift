#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LLMeshProviders
import NIOConcurrencyHelpers

/// One line of the access log. Holds no prompt, no completion text and no credential.
public struct AccessLogRecord: Sendable {
    public var timestamp: String
    public var requestID: String
    public var method: String
    public var path: String
    public var api: String?
    public var status: Int
    public var errorCode: String?
    public var model: String?
    public var upstreamModel: String?
    public var route: String?
    public var provider: String?
    public var stream: Bool
    public var usage: TokenUsage?
    public var costUSD: Double
    public var durationMilliseconds: Double
    public var timeToFirstByteMilliseconds: Double?
    public var overheadMicroseconds: Double
    /// Every upstream attempt; listed in full when there was more than one.
    var attempts: [AttemptRecord] = []
    /// `key:<id>` or `workload:<namespace>/<serviceAccount>` when policies apply.
    var caller: String?
    /// The end user (`x-llmesh-user`).
    var user: String?

    /// The record as one JSON object.
    public var json: String {
        var fields: [String] = [
            #""ts":\#(JSONText.quoted(timestamp))"#,
            #""request_id":\#(JSONText.quoted(requestID))"#,
            #""method":\#(JSONText.quoted(method))"#,
            #""path":\#(JSONText.quoted(path))"#,
            #""status":\#(status)"#,
            #""stream":\#(stream)"#,
        ]
        func add(_ key: String, _ value: String?) {
            if let value { fields.append("\(JSONText.quoted(key)):\(JSONText.quoted(value))") }
        }
        add("api", api)
        add("error_code", errorCode)
        add("model", model)
        add("upstream_model", upstreamModel)
        add("route", route)
        add("provider", provider)
        add("caller", caller)
        add("user", user)
        if let usage {
            fields.append(#""input_tokens":\#(usage.input),"output_tokens":\#(usage.output),"cached_input_tokens":\#(usage.cachedInput)"#)
        }
        fields.append(#""cost_usd":\#(JSONText.number(costUSD))"#)
        fields.append(#""duration_ms":\#(Self.rounded(durationMilliseconds))"#)
        if let ttfb = timeToFirstByteMilliseconds { fields.append(#""ttfb_ms":\#(Self.rounded(ttfb))"#) }
        fields.append(#""overhead_us":\#(Self.rounded(overheadMicroseconds))"#)
        if !attempts.isEmpty { fields.append(#""attempts":\#(attempts.count)"#) }
        if attempts.count > 1 {
            let list = attempts.map { #"{"backend":\#(JSONText.quoted($0.backend)),"outcome":\#(JSONText.quoted($0.outcome)),"duration_ms":\#(Self.rounded($0.durationMilliseconds))}"# }
            fields.append(#""attempt_log":[\#(list.joined(separator: ","))]"#)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func rounded(_ value: Double) -> String {
        String(format3: value)
    }
}

extension String {
    /// A number with at most three decimals, without Foundation's formatter.
    init(format3 value: Double) {
        guard value.isFinite else {
            self = "0"
            return
        }
        let scaled = Int64((value * 1000).rounded())
        let whole = scaled / 1000
        let fraction = abs(scaled % 1000)
        let sign = scaled < 0 && whole == 0 ? "-" : ""
        self = fraction == 0 ? "\(sign)\(whole)" : "\(sign)\(whole)." + String(String(fraction + 1000).dropFirst())
    }
}

/// Writes access-log lines to standard output, one `write(2)` per line so lines never interleave.
public final class AccessLog: Sendable {
    private let enabled: Bool
    private let lock = NIOLock()

    public init(enabled: Bool) {
        self.enabled = enabled
    }

    public func write(_ record: AccessLogRecord) {
        guard enabled else { return }
        var line = Array(record.json.utf8)
        line.append(0x0A)
        lock.withLock {
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)  // safe: non-empty array
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}
