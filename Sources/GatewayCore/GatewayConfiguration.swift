import Shared

/// The gateway's settings, read from the environment in one place.
///
/// | variable | default | |
/// |---|---|---|
/// | `GATEWAY_ROUTES_FILE`, `GATEWAY_RATE_LIMIT`, `GATEWAY_TIMEOUT_MS`, `GATEWAY_RETRIES`, `GATEWAY_KEYS_ON_WRITES`, `GATEWAY_API_KEYS`, `GATEWAY_KEYS_<NAME>`, `<SERVICE>_URL` | see ``RouteTable/load(_:maxBodyBytes:)`` | the route table |
/// | `GATEWAY_UPSTREAM_HOSTS` | the route URLs' hosts | where an advertised instance may be |
/// | `GATEWAY_UPSTREAM_CONNECTIONS` | 128 | idle keep-alive connections kept per upstream instance (per event loop on the forwarding path, in all on the router's) |
/// | `GATEWAY_CONNECT_TIMEOUT_MS` | 1000 | |
/// | `GATEWAY_INFLIGHT_PER_CLIENT` | 32 | of `GATEWAY_UPSTREAM_CONNECTIONS` × 8 requests in flight |
/// | `GATEWAY_STREAMS`, `GATEWAY_STREAMS_PER_CLIENT` | 64, 4 | event streams (their own pool of that size) |
/// | `GATEWAY_WEBSOCKETS`, `GATEWAY_WEBSOCKETS_PER_CLIENT` | 1024, 16 | upgraded WebSocket connections |
/// | `GATEWAY_DASHBOARD_VIEWERS`, `GATEWAY_DASHBOARD_VIEWERS_PER_CLIENT` | 256, 8 | `/dashboard/events` viewers |
/// | `GATEWAY_DASHBOARD_AUTH` | `key` | `key`: the dashboard needs an admin key (`GATEWAY_API_KEYS`, else `ADMIN_API_KEYS`); `open`: anyone who reaches the gateway (`scripts/run.sh` on loopback) |
///
/// and the platform's settings (``ServiceConfiguration``), with `GATEWAY_PORT` 8080.
public struct GatewayConfiguration: ServiceSettings {
    /// How many of something may be open at once, in all and per client.
    struct Share: Sendable {
        var total: Int
        var perClient: Int

        func limit() -> ConcurrencyLimit { ConcurrencyLimit(total: total, perClient: perClient) }
    }

    public var service: ServiceConfiguration
    var routes: RouteTable
    var allowedHosts: UpstreamBalancer.AllowedHosts
    var upstreamConnections: Int
    var connectTimeout: Duration
    /// Requests in flight through the main pool.
    var requests: Share
    /// Event streams; `total` is also the stream pool's size.
    var streams: Share
    var webSockets: Share
    var dashboardViewers: Share
    /// Keys that may see the dashboard; nil: open.
    var dashboardKeys: APIKeySet?

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        service = try .load(service: "gateway", portVariable: "GATEWAY_PORT", defaultPort: 8080, environment: env)
        routes = try RouteTable.load(env, maxBodyBytes: service.maxBodyBytes)
        let hosts = env.list("GATEWAY_UPSTREAM_HOSTS")
        do {
            allowedHosts = try UpstreamBalancer.AllowedHosts(hosts.isEmpty ? routes.configuredHosts : hosts)
        } catch {
            throw ConfigurationError("GATEWAY_UPSTREAM_HOSTS: \(error)")
        }
        upstreamConnections = max(1, env.int("GATEWAY_UPSTREAM_CONNECTIONS", default: 128))
        connectTimeout = env.milliseconds("GATEWAY_CONNECT_TIMEOUT_MS", default: .seconds(1))
        requests = Share(total: upstreamConnections * 8, perClient: env.int("GATEWAY_INFLIGHT_PER_CLIENT", default: 32))
        streams = Share(total: env.int("GATEWAY_STREAMS", default: 64), perClient: env.int("GATEWAY_STREAMS_PER_CLIENT", default: 4))
        webSockets = Share(
            total: env.int("GATEWAY_WEBSOCKETS", default: 1024),
            perClient: env.int("GATEWAY_WEBSOCKETS_PER_CLIENT", default: 16)
        )
        switch env.string("GATEWAY_DASHBOARD_AUTH", default: "key").lowercased() {
        case "key":
            dashboardKeys = APIKeySet(RouteTable.adminKeys(env))
        case "open": dashboardKeys = nil
        default: throw ConfigurationError("GATEWAY_DASHBOARD_AUTH: key or open")
        }
        dashboardViewers = Share(
            total: env.int("GATEWAY_DASHBOARD_VIEWERS", default: 256),
            perClient: env.int("GATEWAY_DASHBOARD_VIEWERS_PER_CLIENT", default: 8)
        )
    }
}
