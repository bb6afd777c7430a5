import AsyncHTTPClient
import LLMeshModel
import NIOConcurrencyHelpers
import NIOCore

/// Pooled upstream HTTP clients, one per distinct connect/idle timeout and proxy.
///
/// Each client keeps its own connection pool (TLS with ALPN: HTTP/2 where the provider offers it, else
/// HTTP/1.1), so connections are reused across requests and providers that share settings.
public final class UpstreamClients: Sendable {
    struct Key: Hashable {
        var connectTimeout: TimeSpan
        var idleTimeout: TimeSpan
        var proxy: EgressProxy.Server?
    }

    private let clients = NIOLockedValueBox<[Key: HTTPClient]>([:])
    private let eventLoopGroup: any EventLoopGroup
    public let proxy: EgressProxy
    /// The lean client for plain-HTTP upstreams without a proxy.
    let plain: PlainHTTPClient
    /// The client for credential endpoints (STS, the EKS Pod Identity agent): short timeouts, its own small pool.
    public let credentialClient: HTTPClient

    public init(eventLoopGroup: any EventLoopGroup, proxy: EgressProxy) {
        self.eventLoopGroup = eventLoopGroup
        self.proxy = proxy
        self.plain = PlainHTTPClient(group: eventLoopGroup)
        var credentialConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(3), read: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 4),
            proxy: nil,
            decompression: .disabled
        )
        credentialConfiguration.connectionPool.retryConnectionEstablishment = false
        self.credentialClient = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: credentialConfiguration)
    }

    /// The client for a request to `scheme://host` with the given timeouts.
    func client(scheme: String, host: String, connectTimeout: TimeSpan, idleTimeout: TimeSpan) -> HTTPClient {
        let key = Key(connectTimeout: connectTimeout, idleTimeout: idleTimeout, proxy: proxy.server(forScheme: scheme, host: host))
        return clients.withLockedValue { clients in
            if let existing = clients[key] { return existing }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(key.connectTimeout.milliseconds), read: .milliseconds(key.idleTimeout.milliseconds)),
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512),
                proxy: key.proxy.map { .server(host: $0.host, port: $0.port) },
                decompression: .disabled
            )
            configuration.httpVersion = .automatic
            // A refused or failed connection must fail the attempt at once, so the route can retry or fall back;
            // AsyncHTTPClient would otherwise keep re-dialling until the request's deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
            clients[key] = client
            return client
        }
    }

    /// Closes every pool.
    public func shutdown() async {
        plain.shutdown()
        let all = clients.withLockedValue { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all + [credentialClient] { try? await client.shutdown() }
    }
}
