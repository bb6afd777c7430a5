import Crypto
import Foundation

/// AWS Signature Version 4 for non-S3 services such as Bedrock Runtime (signing name `bedrock`).
///
/// Follows botocore's rules: the canonical URI is the wire path (already percent-encoded) encoded once more, so a
/// model id `anthropic.claude-3-haiku-20240307-v1:0` travels as `…v1%3A0` and is signed as `…v1%253A0`; header names are
/// lower-cased, values trimmed with inner spaces collapsed, hop-by-hop headers and `user-agent` are not signed, `host`
/// always is; a session token is added as `x-amz-security-token` before signing and is signed.
public struct SigV4Signer: Sendable {
    public var service: String
    public var region: String
    /// Where derived signing keys are kept between requests; without one, every signature derives its key.
    public var keyCache: SigV4KeyCache?

    /// Headers botocore never signs.
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    public init(service: String, region: String, keyCache: SigV4KeyCache? = nil) {
        self.service = service
        self.region = region
        self.keyCache = keyCache
    }

    /// The headers to add to a request: `x-amz-date`, `x-amz-security-token` when the credentials have one, and
    /// `authorization`.
    ///
    /// - Parameters:
    ///   - wirePath: the path exactly as sent, already percent-encoded (see ``encodePathSegment(_:)``).
    ///   - amzDate: the request time as `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public func sign(method: String, host: String, wirePath: String, query: String = "", headers: [(String, String)], body: [UInt8], credentials: AWSCredentials, amzDate: String) -> [(String, String)] {
        var signed = headers.filter { !Self.unsignedHeaders.contains($0.0.lowercased()) }
        signed.removeAll { $0.0.lowercased() == "host" || $0.0.lowercased() == "x-amz-date" || $0.0.lowercased() == "x-amz-security-token" }
        signed.append(("host", host))
        signed.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        let (canonicalHeaders, signedHeaderNames) = Self.canonicalHeaders(signed)
        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalPath(wirePath),
            Self.canonicalQuery(query),
            canonicalHeaders,
            signedHeaderNames,
            Self.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(secret: credentials.secretAccessKey, day: day)))
        var result: [(String, String)] = [("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { result.append(("x-amz-security-token", token)) }
        result.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaderNames), Signature=\(signature)"))
        return result
    }

    /// The canonical request, exposed for tests and debugging of `SignatureDoesNotMatch`.
    public func canonicalRequest(method: String, host: String, wirePath: String, query: String = "", headers: [(String, String)], body: [UInt8], sessionToken: String?, amzDate: String) -> String {
        var signed = headers.filter { !Self.unsignedHeaders.contains($0.0.lowercased()) }
        signed.append(("host", host))
        signed.append(("x-amz-date", amzDate))
        if let sessionToken { signed.append(("x-amz-security-token", sessionToken)) }
        let (canonicalHeaders, names) = Self.canonicalHeaders(signed)
        return [method.uppercased(), Self.canonicalPath(wirePath), Self.canonicalQuery(query), canonicalHeaders, names, Self.hex(SHA256.hash(data: body))].joined(separator: "\n")
    }

    /// `HMAC("AWS4"+secret, day)` → region → service → `aws4_request`.
    func signingKey(secret: String, day: String) -> SymmetricKey {
        guard let keyCache else { return deriveSigningKey(secret: secret, day: day) }
        return keyCache.key(for: SigV4KeyCache.Scope(secret: secret, day: day, region: region, service: service)) {
            deriveSigningKey(secret: secret, day: day)
        }
    }

    func deriveSigningKey(secret: String, day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Percent-encodes one path segment for the wire, leaving only unreserved characters (`A-Z a-z 0-9 - . _ ~`):
    /// `anthropic.claude-3-haiku-20240307-v1:0` → `anthropic.claude-3-haiku-20240307-v1%3A0`; an ARN's `/` becomes `%2F`.
    public static func encodePathSegment(_ segment: String) -> String {
        percentEncode(segment, keepSlash: false)
    }

    /// The canonical URI of a wire path: encoded once more, keeping `/` (so `%3A` becomes `%253A`).
    static func canonicalPath(_ wirePath: String) -> String {
        wirePath.isEmpty ? "/" : percentEncode(wirePath, keepSlash: true)
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = (parts[0].removingPercentEncoding ?? String(parts[0]))
            let value = parts.count > 1 ? (parts[1].removingPercentEncoding ?? String(parts[1])) : ""
            return (percentEncode(name, keepSlash: false), percentEncode(value, keepSlash: false))
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func canonicalHeaders(_ headers: [(String, String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let names = merged.keys.sorted()
        let lines = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    static func percentEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            let isUnreserved = (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
                || byte == 45 || byte == 46 || byte == 95 || byte == 126
            if isUnreserved || (keepSlash && byte == 47) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex<D: Digest>(_ digest: D) -> String { hex(Array(digest)) }

    static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String { hex(Array(code)) }
}
