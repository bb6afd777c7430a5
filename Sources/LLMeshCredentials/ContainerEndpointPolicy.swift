import Foundation
import NIOCore

/// Which `AWS_CONTAINER_CREDENTIALS_FULL_URI` may receive the authorization token (botocore and aws-sdk-swift rules):
/// any `https` URL, or `http` to a loopback address, `localhost`, the ECS agent `169.254.170.2` or the EKS Pod
/// Identity agent `169.254.170.23` / `[fd00:ec2::23]`.
enum ContainerEndpointPolicy {
    static let agentIPv4: Set<String> = ["169.254.170.2", "169.254.170.23"]
    static let agentIPv6: Set<String> = ["fd00:ec2::23"]
    /// Where `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` points: the ECS container agent.
    static let ecsAgentBaseURL = "http://169.254.170.2"

    /// nil when `uri` is allowed, else why not.
    static func problem(with uri: String) -> String? {
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), var host = url.host, !host.isEmpty else {
            return "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an absolute URL"
        }
        if scheme == "https" { return nil }
        guard scheme == "http" else { return "AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https, not \(scheme)" }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if isAllowedPlainHost(host) { return nil }
        return "AWS_CONTAINER_CREDENTIALS_FULL_URI uses http to \(host), which is neither loopback nor a credential agent address (use https)"
    }

    static func isAllowedPlainHost(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        if let octets = ipv4Octets(host) { return octets[0] == 127 || agentIPv4.contains(host) }
        guard host.contains(":"), let address = try? SocketAddress(ipAddress: host, port: 0), let normalized = address.ipAddress else { return false }
        return normalized == "::1" || agentIPv6.contains(normalized.lowercased())
    }

    /// The four octets of a dotted-quad IPv4 address, nil for anything else.
    static func ipv4Octets(_ host: String) -> [Int]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part -> Int? in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part), (0...255).contains(value) else { return nil }
            return value
        }
        return octets.count == 4 ? octets : nil
    }
}
