import AsyncHTTPClient
import Hummingbird
import NIOCore
import Shared

/// Front door: routing, breakers per upstream, rate limits, API keys, health dashboard.
///
/// The composition root: everything the service runs is made and wired here. The gateway
/// routes without Redis (static URLs, in-process rate limits), so Redis only degrades it.
public func buildApplication(configuration gateway: GatewayConfiguration) throws -> some ApplicationProtocol {
    let config = gateway.service
    let runtime = ServiceRuntime(configuration: config, redisRequired: false)
    let upstreams = HTTPClientService(
        client: .gatewayUpstreams(connections: gateway.upstreamConnections, connectTimeout: gateway.connectTimeout)
    )
    let streamUpstreams = HTTPClientService(
        client: .gatewayUpstreams(connections: gateway.streams.total, connectTimeout: gateway.connectTimeout)
    )
    // Rate-limit checks of concurrent requests share round trips to Redis.
    let limitChecks = RedisBatcher(redis: runtime.redis)
    let proxy = GatewayProxy(
        client: upstreams.client,
        streamClient: streamUpstreams.client,
        balancer: UpstreamBalancer(registry: runtime.registry, allowed: gateway.allowedHosts),
        breakers: runtime.breakers,
        limiter: RateLimiter(
            redis: runtime.redis,
            batcher: limitChecks,
            keyPrefix: "gateway:ratelimit:",
            clock: ContinuousClock(),
            logger: runtime.logger
        ),
        verifier: runtime.keys,
        trustedProxies: config.trustedProxies,
        limits: GatewayProxy.Limits(requests: gateway.requests.limit(), streams: gateway.streams.limit())
    )
    let board = DashboardBoard(registry: runtime.registry)

    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "Gateway"), docsLinks: gateway.routes.docsLinks)
    GatewayAPI(table: gateway.routes, proxy: proxy).register(on: router)
    let access = DashboardAccess(mode: gateway.dashboardKeys.map { .keyed($0) } ?? .open, verifier: runtime.keys)
    if gateway.dashboardKeys?.isEmpty == true {
        runtime.logger.warning("the dashboard needs an admin key and none is configured: it refuses everyone (GATEWAY_DASHBOARD_AUTH)")
    }
    DashboardAPI(board: board, access: access, viewers: gateway.dashboardViewers.limit()).register(on: router)
    runtime.logger.info(
        "routes",
        metadata: [
            "gateway.routes": "\(gateway.routes.routes.map { "\($0.prefix) → \($0.service) \($0.urls)" })"
        ]
    )
    // Routed requests take the forwarding path on the connection's own event loop; the
    // router keeps the gateway's own routes (and proxies only what reaches it otherwise).
    let pools = UpstreamPools(
        configuration: .init(
            connectTimeout: TimeAmount(gateway.connectTimeout),
            idleTimeout: HTTPClientService.pooledIdleTimeout,
            maxIdle: gateway.upstreamConnections
        )
    )
    let forwarding = ForwardingPath(
        table: gateway.routes,
        proxy: proxy,
        pools: pools,
        webSockets: gateway.webSockets.limit(),
        metrics: runtime.metrics,
        logger: runtime.logger
    )
    return runtime.makeApplication(
        router: router,
        server: { GatewayChildChannel(responder: $0, http1: $1, path: forwarding) },
        services: [
            limitChecks, upstreams, streamUpstreams, pools, DashboardService(board: board, redis: config.redis, logger: runtime.logger),
        ]
    )
}
