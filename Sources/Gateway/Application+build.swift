import AsyncHTTPClient
import Foundation
import GatewayCore
import Hummingbird
import ServiceLifecycle
import Shared

/// Front door: routing, breakers per upstream, rate limits, API keys, health dashboard.
///
/// The composition root: everything the service runs is made and wired here. The gateway
/// routes without Redis (static URLs, in-process rate limits), so Redis only degrades it.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(redisRequired: false))
    let env = config.environment
    let table: RouteTable
    do {
        table = try RouteTable.load(env, maxBodyBytes: config.maxBodyBytes)
    } catch {
        runtime.logger.critical("invalid route table", metadata: ["error": "\(error)"])
        exit(1)
    }
    let upstreams = HTTPClientService(client: .gatewayUpstreams(env))
    let streamUpstreams = HTTPClientService(client: .gatewayUpstreams(env, connections: env.int("GATEWAY_STREAMS", default: 64)))
    let allowed: UpstreamBalancer.AllowedHosts
    do {
        allowed = try UpstreamBalancer.AllowedHosts(environment: env, table: table)
    } catch {
        runtime.logger.critical("invalid GATEWAY_UPSTREAM_HOSTS", metadata: ["error": "\(error)"])
        exit(1)
    }
    let proxy = GatewayProxy(
        client: upstreams.client,
        streamClient: streamUpstreams.client,
        balancer: UpstreamBalancer(registry: runtime.registry, allowed: allowed),
        breakers: runtime.breakers,
        limiter: RateLimiter(redis: runtime.redis, keyPrefix: "gateway:ratelimit:", clock: ContinuousClock(), logger: runtime.logger),
        verifier: runtime.keys,
        trustedProxies: config.trustedProxies,
        limits: GatewayProxy.Limits(environment: env)
    )
    let board = DashboardBoard(registry: runtime.registry)

    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "Gateway"))
    GatewayAPI(table: table, proxy: proxy).register(on: router)
    DashboardAPI(board: board, viewers: ConcurrencyLimit(
        total: env.int("GATEWAY_DASHBOARD_VIEWERS", default: 256), perClient: env.int("GATEWAY_DASHBOARD_VIEWERS_PER_CLIENT", default: 8)
    )).register(on: router)
    runtime.logger.info("routes", metadata: [
        "gateway.routes": "\(table.routes.map { "\($0.prefix) → \($0.service) \($0.urls)" })",
    ])
    let relay = WebSocketRelay(table: table, proxy: proxy, maxFrameSize: config.maxBodyBytes, relays: ConcurrencyLimit(
        total: env.int("GATEWAY_WEBSOCKETS", default: 1024), perClient: env.int("GATEWAY_WEBSOCKETS_PER_CLIENT", default: 16)
    ))
    return runtime.makeApplication(router: router, server: relay.server, services: [
        upstreams, streamUpstreams, DashboardService(board: board, redis: config.redis, logger: runtime.logger),
    ])
}
