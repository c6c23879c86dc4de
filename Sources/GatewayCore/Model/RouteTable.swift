import Foundation
import Shared

/// The gateway's routes, longest prefix first.
///
/// The default covers every service of the suite at its default port (each overridable with
/// `<SERVICE>_URL`); `GATEWAY_ROUTES_FILE` replaces it with a JSON document:
///
/// ```json
/// {"defaults": {"timeout_ms": 10000, "retries": 1, "keys_on_writes": true,
///               "rate_limit": {"limit": 100, "period_s": 1}, "max_body_bytes": 1048576},
///  "routes": [{"prefix": "/flags", "service": "flags", "urls": ["http://127.0.0.1:8081"],
///              "timeout_ms": 2000, "rate_limit": null}]}
/// ```
/// A route's own fields override the defaults; `"rate_limit": null` switches limiting off.
/// `"key_sets": ["admin", "ofrep"]` names the keys a route accepts: `admin` is
/// `GATEWAY_API_KEYS` (else `ADMIN_API_KEYS`), any other name `GATEWAY_KEYS_<NAME>`;
/// `"keys_on_reads": true` keys every method and WebSocket upgrades too;
/// `"strip_prefix"` cuts less than the prefix off (a sub-route of another service);
/// `"internal_paths"` (default `["/health", "/metrics", "/openapi.json"]`) are the upstream
/// paths not forwarded, `[]` forwards them all.
struct RouteTable: Sendable {
    let routes: [GatewayRoute]

    init(_ routes: [GatewayRoute]) {
        self.routes = routes.sorted { $0.prefix.count > $1.prefix.count }
    }

    /// The route taking `path`, and the path to send upstream; nil when no route takes it or
    /// the route keeps it internal (``GatewayRoute/internalPaths``), so that the gateway answers
    /// both alike and shows nothing of what is behind it.
    func match(_ path: Substring) -> (route: GatewayRoute, upstreamPath: Substring)? {
        for route in routes {
            if let upstream = route.upstreamPath(for: path) { return route.isInternal(upstream) ? nil : (route, upstream) }
        }
        return nil
    }

    /// The hosts of the configured URLs: where instances may be by default.
    var configuredHosts: [String] {
        routes.flatMap(\.urls).compactMap(UpstreamBalancer.AllowedHosts.host)
    }

    /// The suite's services under their prefixes (see the README's route table).
    /// `/flags/ofrep` is FlagService too, with its own key set: OFREP evaluations are POSTs,
    /// and a key that may evaluate must not be one that may write flags.
    static let defaultPrefixes: [(prefix: String, service: String, urlVariable: String, port: Int)] = [
        ("/flags/ofrep", "flags", "FLAG_URL", 8081),
        ("/flags", "flags", "FLAG_URL", 8081),
        ("/restrictions", "restriction", "RESTRICTION_URL", 8082),
        ("/analytics", "analytics", "ANALYTICS_URL", 8083),
        ("/stream", "stream", "STREAM_URL", 8084),
        ("/social/profile", "profile", "PROFILE_URL", 8085),
        ("/social/post", "post", "POST_URL", 8086),
        ("/social/feed", "feed", "FEED_URL", 8087),
    ]

    /// From `GATEWAY_ROUTES_FILE`, else the defaults with the environment's URLs and
    /// `GATEWAY_RATE_LIMIT` (`<limit>/<seconds>`, default `100/1`, `off` for none),
    /// `GATEWAY_TIMEOUT_MS` (10000), `GATEWAY_RETRIES` (1), `GATEWAY_KEYS_ON_WRITES` (true).
    /// The default `/flags/ofrep` route accepts the `admin` and `ofrep` key sets
    /// (`GATEWAY_KEYS_OFREP`), every other route `admin` only.
    static func load(_ env: EnvironmentReader, maxBodyBytes: Int) throws -> RouteTable {
        let admin = adminKeys(env)
        let keySets: @Sendable (String) -> APIKeySet? = { name in
            let variable = "GATEWAY_KEYS_" + name.uppercased()
            return name == "admin" ? APIKeySet(admin) : env.string(variable).map { _ in APIKeySet(env.list(variable)) }
        }
        var defaults = RouteDefaults(
            timeout: env.milliseconds("GATEWAY_TIMEOUT_MS", default: .seconds(10)),
            retries: env.int("GATEWAY_RETRIES", default: 1),
            keysOnWrites: env.bool("GATEWAY_KEYS_ON_WRITES", default: true),
            keys: APIKeySet(admin),
            rateLimit: try parseRate(env.string("GATEWAY_RATE_LIMIT", default: "100/1")),
            maxBodyBytes: maxBodyBytes,
            keySets: keySets
        )
        if let path = env.string("GATEWAY_ROUTES_FILE") {
            let json = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: path)))
            return try RouteTable(json: json, defaults: &defaults)
        }
        return RouteTable(
            defaultPrefixes.map { entry in
                var route = defaults.route(
                    prefix: entry.prefix,
                    service: entry.service,
                    urls: env.list(entry.urlVariable).isEmpty ? ["http://127.0.0.1:\(entry.port)"] : env.list(entry.urlVariable)
                )
                if entry.prefix == "/flags/ofrep" {
                    route.stripPrefix = "/flags"
                    route.keys = route.keys.union(keySets("ofrep") ?? APIKeySet([]))
                }
                return route
            }
        )
    }

    /// The `admin` key set: `GATEWAY_API_KEYS`, else `ADMIN_API_KEYS`.
    static func adminKeys(_ env: EnvironmentReader) -> [String] {
        env.list("GATEWAY_API_KEYS").isEmpty ? env.list("ADMIN_API_KEYS") : env.list("GATEWAY_API_KEYS")
    }

    init(json: JSONValue, defaults: inout RouteDefaults) throws {
        if let object = json["defaults"] { try defaults.apply(object, at: "defaults") }
        guard case .array(let entries)? = json["routes"], !entries.isEmpty else {
            throw RouteTableError("routes: a non-empty array is required")
        }
        var routes: [GatewayRoute] = []
        for (index, entry) in entries.enumerated() {
            let at = "routes[\(index)]"
            guard case .string(let prefix)? = entry["prefix"], prefix.hasPrefix("/") else {
                throw RouteTableError("\(at).prefix: a path starting with / is required")
            }
            guard case .string(let service)? = entry["service"], !service.isEmpty else {
                throw RouteTableError("\(at).service: a service name is required")
            }
            var urls: [String] = []
            if case .array(let list)? = entry["urls"] {
                for case .string(let url) in list {
                    guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                        throw RouteTableError("\(at).urls: \(url) is not an http(s) URL")
                    }
                    urls.append(url.hasSuffix("/") ? String(url.dropLast()) : url)
                }
            }
            var own = defaults
            try own.apply(entry, at: at)
            let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            var route = own.route(prefix: trimmed, service: service, urls: urls)
            if case .string(let strip)? = entry["strip_prefix"] {
                guard trimmed.hasPrefix(strip), strip.hasPrefix("/") else {
                    throw RouteTableError("\(at).strip_prefix: must be the start of the prefix")
                }
                route.stripPrefix = strip
            }
            routes.append(route)
        }
        guard Set(routes.map(\.prefix)).count == routes.count else { throw RouteTableError("routes: prefixes must be unique") }
        self.init(routes)
    }

    static func parseRate(_ text: String) throws -> RateLimitPolicy? {
        if text.lowercased() == "off" { return nil }
        do {
            return try RateLimitPolicy(parsing: text, name: "gateway")
        } catch {
            throw RouteTableError("GATEWAY_RATE_LIMIT: \(error) (or off)")
        }
    }
}
