import AsyncHTTPClient
import Foundation
import GatewayCore
import Hummingbird
import Shared

/// bench/gateway.sh's floor: `GatewayBench PORT UPSTREAM` serves one route that sends each
/// GET to `UPSTREAM` + its path through async-http-client (the gateway's own client,
/// `HTTPClient.gatewayUpstreams`) and answers with the upstream's status, content type and body, read whole.
/// No route table, key, limit, breaker, header rewriting, middleware or logging: what
/// Hummingbird plus async-http-client cost on their own, for the gateway to be read against.
@main
struct GatewayBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let port = Int(arguments[1]) else {
            print("usage: GatewayBench PORT UPSTREAM_URL")
            exit(2)
        }
        let upstream = arguments[2]
        let client = HTTPClient.gatewayUpstreams(connections: 128, connectTimeout: .seconds(1))
        let router = Router()
        router.get("**") { request, _ -> Response in
            let upstreamResponse = try await client.execute(HTTPClientRequest(url: upstream + request.uri.path), timeout: .seconds(10))
            let body = try await upstreamResponse.body.collect(upTo: 1 << 20)
            var headers = HTTPFields()
            if let type = upstreamResponse.headers.first(name: "content-type") { headers[.contentType] = type }
            return Response(status: .init(code: Int(upstreamResponse.status.code)), headers: headers, body: .init(byteBuffer: body))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
        try await client.shutdown()
    }
}
