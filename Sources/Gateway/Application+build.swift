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
    let gatewayKeys = Set(env.list("GATEWAY_API_KEYS"))
    let apiKeys = gatewayKeys.isEmpty ? config.adminAPIKeys : gatewayKeys
    let proxy = GatewayProxy(
        client: upstreams.client,
        balancer: UpstreamBalancer(registry: runtime.registry),
        breakers: runtime.breakers,
        limiter: RateLimiter(redis: runtime.redis, keyPrefix: "gateway:ratelimit:", clock: ContinuousClock(), logger: runtime.logger),
        apiKeys: apiKeys
    )
    let board = DashboardBoard(registry: runtime.registry)

    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "Gateway"))
    GatewayAPI(table: table, proxy: proxy).register(on: router)
    DashboardAPI(board: board).register(on: router)
    runtime.logger.info("routes", metadata: [
        "gateway.routes": "\(table.routes.map { "\($0.prefix) → \($0.service) \($0.urls)" })",
    ])
    let relay = WebSocketRelay(table: table, proxy: proxy, maxFrameSize: config.maxBodyBytes)
    return runtime.makeApplication(router: router, server: relay.server, services: [
        upstreams, DashboardService(board: board, redis: config.redis, logger: runtime.logger),
    ])
}
