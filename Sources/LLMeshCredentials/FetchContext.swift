import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// What a credential fetch needs besides its own settings: the HTTP client, the clock, retries and session length.
struct FetchContext: Sendable {
    var httpClient: HTTPClient
    var logger: Logger
    var now: @Sendable () -> Date
    var retry: RetryPolicy
    var refresh: AWSRefreshPolicy
    /// Replaces the providers' own per-attempt timeouts (tests).
    var requestTimeout: TimeAmount? = nil
}

/// Text from a remote error that is fit for logs and status: bounded, one line, and never holding `secret`.
enum SafeText {
    static let maximumCharacters = 256

    static func sanitize(_ text: String, hiding secrets: [String]) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
        }
        result = String(result.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        return result.count > maximumCharacters ? String(result.prefix(maximumCharacters)) + "…" : result
    }
}
