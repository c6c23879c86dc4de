import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// The gateway's routes on its real `buildApplication`, in process, in front of a live
/// upstream that echoes what reached it (``GatewayProxyTests/Echo``).
@Suite("Gateway routes", .teardown)
struct GatewayRouteTests {
    static let adminKey = "gateway-route-admin"

    @Test func routesStripTheirPrefixAndKeyWrites() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        try await GatewayProxyTests.Echo("a").application().test(.live) { upstream in
            let url = try GatewayProxyTests.url(upstream.port)
            // The feed routes to the echo as well; the post route to an upstream nobody listens on.
            let gateway = try GatewayProxyTests.gateway(
                flagURLs: [url],
                redis: redis,
                ["GATEWAY_API_KEYS": Self.adminKey, "FEED_URL": url, "POST_URL": "http://127.0.0.1:1"]
            )
            try await gateway.test(.router) { client in
                let read = try await client.execute(
                    uri: "/social/feed/fetch_feed?x=1",
                    method: .get,
                    headers: [.connection: "X-Hop", HTTPField.Name("X-Hop")!: "1"]
                )
                #expect(read.status == .ok)
                #expect(read.json?["path"] == "/fetch_feed")
                #expect(read.json?["headers"]?["x-hop"] == nil, "a header named in Connection went upstream")
                #expect(read.headers[.requestID] != nil)

                #expect(try await client.execute(uri: "/social/feed/submit_impression", method: .post).status == .unauthorized)
                let keyed = try await client.execute(uri: "/social/feed/submit_impression", method: .post, headers: [.apiKey: Self.adminKey])
                #expect(keyed.json?["method"] == "POST", "\(keyed.status) \(String(buffer: keyed.body))")
                for spelling in NonCanonicalPaths.variants(of: "/flags/f") {
                    let code = try await client.execute(uri: spelling, method: .post).status.code
                    #expect(!(200..<300).contains(code), "POST \(spelling) answered \(code) without a key")
                }

                let unreachable = try await client.execute(uri: "/social/post/get_post_info", method: .get)
                #expect([502, 503].contains(unreachable.status.code))
                #expect(unreachable.headers[.contentType] == "application/problem+json")
                #expect(try await client.execute(uri: "/nowhere", method: .get).status == .notFound)
            }
        }
    }

    @Test func aBadRouteTableIsAnErrorNotAnExit() throws {
        #expect(throws: (any Error).self) {
            try GatewayConfiguration(environment: TestEnvironment.serviceEnvironment(["GATEWAY_RATE_LIMIT": "lots"]))
        }
        #expect(throws: (any Error).self) {
            try GatewayConfiguration(environment: TestEnvironment.serviceEnvironment(["GATEWAY_UPSTREAM_HOSTS": "10.0.0.0/99"]))
        }
    }
}
