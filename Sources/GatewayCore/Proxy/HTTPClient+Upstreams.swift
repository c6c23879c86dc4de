import AsyncHTTPClient
import Shared

extension HTTPClient {
    /// The gateway's client for its upstreams: up to `connections` keep-alive connections per
    /// upstream host (`GATEWAY_UPSTREAM_CONNECTIONS`, or `GATEWAY_STREAMS` for event streams).
    ///
    /// Many connections per upstream, since the default soft limit of 8 would queue requests;
    /// no redirects followed and no decompression, since a proxy passes both on as they are.
    /// Idle connections are dropped before the upstream's keep-alive timeout would close them.
    /// A refused connection fails at once instead of being retried until the request's
    /// deadline: the gateway retries on another instance itself, and its breaker must hear
    /// of the failure.
    public static func gatewayUpstreams(connections: Int, connectTimeout: Duration) -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: HTTPClientService.pooledIdleTimeout,
            concurrentHTTP1ConnectionsPerHostSoftLimit: connections
        )
        pool.retryConnectionEstablishment = false
        return HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(Int64(connectTimeout.millisecondsRoundedUp))),
                connectionPool: pool,
                decompression: .disabled
            )
        )
    }
}
