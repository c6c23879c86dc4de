import AsyncHTTPClient
import Shared

extension HTTPClient {
    /// The gateway's client for its upstreams, from `GATEWAY_UPSTREAM_CONNECTIONS` (128
    /// keep-alive connections per upstream host) and `GATEWAY_CONNECT_TIMEOUT_MS` (1000).
    ///
    /// Many connections per upstream, since the default soft limit of 8 would queue requests;
    /// no redirects followed and no decompression, since a proxy passes both on as they are.
    /// A refused connection fails at once instead of being retried until the request's
    /// deadline: the gateway retries on another instance itself, and its breaker must hear
    /// of the failure.
    ///
    /// - Parameter connections: per upstream host; by default `GATEWAY_UPSTREAM_CONNECTIONS`.
    ///   The event-stream client is made with `GATEWAY_STREAMS` (64).
    public static func gatewayUpstreams(_ env: EnvironmentReader, connections: Int? = nil) -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connections ?? env.int("GATEWAY_UPSTREAM_CONNECTIONS", default: 128)
        )
        pool.retryConnectionEstablishment = false
        let connectTimeout = env.milliseconds("GATEWAY_CONNECT_TIMEOUT_MS", default: .seconds(1))
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
