import LLMeshModel

/// Egress proxy settings from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (either case), as curl and Go read them.
public struct EgressProxy: Sendable, Hashable {
    /// A proxy server.
    public struct Server: Sendable, Hashable {
        public var host: String
        public var port: Int
    }

    public var https: Server?
    public var http: Server?
    /// Host suffixes, exact hosts or `*` that bypass the proxy.
    public var noProxy: [String]

    public init(https: Server? = nil, http: Server? = nil, noProxy: [String] = []) {
        self.https = https
        self.http = http
        self.noProxy = noProxy
    }

    /// Reads the conventional variables from `environment`.
    public init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            let found = environment[name] ?? environment[name.lowercased()]
            return found?.isEmpty == false ? found : nil
        }
        self.https = value("HTTPS_PROXY").flatMap(Self.parseServer)
        self.http = value("HTTP_PROXY").flatMap(Self.parseServer)
        self.noProxy = (value("NO_PROXY") ?? "").split(separator: ",").map { String($0.trimmingCharactersInWhitespace()).lowercased() }.filter { !$0.isEmpty }
    }

    /// The proxy for a request to `host` over `scheme`, or `nil` to connect directly.
    ///
    /// Loopback destinations always bypass the proxy, as in Go's `httpproxy` package.
    public func server(forScheme scheme: String, host rawHost: String) -> Server? {
        let host = rawHost.lowercased()
        if host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" { return nil }
        for entry in noProxy {
            if entry == "*" { return nil }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            let bareHost = suffix.split(separator: ":").first.map(String.init) ?? suffix
            if host == bareHost || host.hasSuffix("." + bareHost) { return nil }
        }
        return scheme == "https" ? https : http
    }

    static func parseServer(_ text: String) -> Server? {
        var rest = Substring(text)
        if let range = rest.range(of: "://") { rest = rest[range.upperBound...] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        rest = rest.prefix { $0 != "/" }
        guard !rest.isEmpty else { return nil }
        if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) {
            return Server(host: String(rest[..<colon]), port: port)
        }
        return Server(host: String(rest), port: text.hasPrefix("https://") ? 443 : 80)
    }
}
