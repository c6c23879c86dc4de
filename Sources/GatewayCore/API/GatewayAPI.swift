import HTTPTypes
import Hummingbird
import Shared

/// Registers every route of the table: its prefix and everything under it, for every method.
struct GatewayAPI: Sendable {
    let table: RouteTable
    let proxy: GatewayProxy

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    func register(on router: Router<ServiceRequestContext>) {
        let table = self.table
        let proxy = self.proxy
        for route in table.routes {
            for path in [route.prefix, route.prefix + "/**"] {
                for method in Self.methods {
                    router.on(RouterPath(path), method: method) { request, context in
                        // The longest matching prefix wins, whichever route the trie chose.
                        guard let (route, upstreamPath) = table.match(Substring(request.uri.path)) else {
                            throw ProblemDetails.notFound("no route for \(request.uri.path)")
                        }
                        return try await proxy.forward(request, context: context, route: route, upstreamPath: upstreamPath)
                    }
                }
            }
        }
    }
}
