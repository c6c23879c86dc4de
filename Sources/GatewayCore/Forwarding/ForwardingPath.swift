import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import Shared

/// What the gateway's forwarding path needs on every connection: the route table and the
/// proxy's rules (admission, headers, breakers, balancing, retries), the per-loop upstream
/// pools, the WebSocket share, and where each exchange is counted and logged.
struct ForwardingPath: Sendable {
    let table: RouteTable
    let proxy: GatewayProxy
    let pools: UpstreamPools
    /// Upgraded connections open at once, in all and per client (`GATEWAY_WEBSOCKETS`).
    let webSockets: ConcurrencyLimit
    let metrics: ServiceMetrics
    let logger: Logger

    /// A request the forwarding path takes: its route, the path upstream, the query, the
    /// route's template in metrics, and whether it asks for a WebSocket upgrade.
    struct Claim {
        let route: GatewayRoute
        /// The upstream's path and query, before an instance's base path.
        let target: String
        let template: String
        let upgrade: Bool
    }

    /// The claim on `head`, or nil for the router: the gateway's own routes, paths no route
    /// matches or that are not in canonical form (the router answers 404 or 400 as before),
    /// routes with an `https://` upstream (the router's client speaks TLS).
    func claim(_ head: HTTPRequestHead) -> Claim? {
        let uri = head.uri
        let queryStart = uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex
        let path = uri[..<queryStart]
        guard CanonicalPathMiddleware.isCanonical(path), let (route, upstreamPath) = table.match(path),
            route.urls.allSatisfy({ $0.hasPrefix("http://") })
        else { return nil }
        let upgrade = head.headers["upgrade"].contains { $0.lowercased() == "websocket" }
        return Claim(
            route: route,
            target: String(upstreamPath) + uri[queryStart...],
            template: path.count == route.prefix.count ? route.prefix : route.prefix + "/**",
            upgrade: upgrade
        )
    }

    /// The fields of `headers` that admission reads (key, declared length, event stream),
    /// as HTTPTypes fields.
    static func admissionFields(_ headers: HTTPHeaders) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers {
            switch name.lowercased() {
            case "x-api-key": fields.append(HTTPField(name: .apiKey, value: value))
            case "authorization": fields.append(HTTPField(name: .authorization, value: value))
            case "content-length": fields.append(HTTPField(name: .contentLength, value: value))
            case "accept": fields.append(HTTPField(name: .accept, value: value))
            default: continue
            }
        }
        return fields
    }
}
