import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// The gateway's routes on its real `buildApplication`, in process, in front of a live
/// upstream that echoes what reached it.
@Suite("Gateway routes", .teardown)
struct GatewayRouteTests {
    static let adminKey = "gateway-route-admin"

    /// Answers every request with its method, path and forwarding headers.
    static func echo() -> some ApplicationProtocol {
        let router = Router()
        router.on("**", method: .get) { request, _ in Self.echoed(request) }
        router.on("**", method: .post) { request, _ in Self.echoed(request) }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func echoed(_ request: Request) -> Response {
        let object: JSONValue = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "forwarded_for": request.headers[.forwardedFor].map(JSONValue.string) ?? .null,
            "hop": request.headers[HTTPField.Name("X-Hop")!].map(JSONValue.string) ?? .null,
        ]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(json: object)))
    }

    /// - Parameter redisURL: a Redis of the test's own: services other tests build in process
    ///   heartbeat on the run's Redis, and the gateway would balance over them.
    static func gateway(upstreamPort: Int, redisURL: String) throws -> some ApplicationProtocol {
        let url = "http://127.0.0.1:\(upstreamPort)"
        let env = TestEnvironment.serviceEnvironment([
            "REDIS_URL": redisURL,
            "GATEWAY_API_KEYS": adminKey, "FEED_URL": url, "FLAG_URL": url, "GATEWAY_RATE_LIMIT": "off", "AUTH_FAILURE_LIMIT": "1000000/60",
            // An upstream nobody listens on.
            "POST_URL": "http://127.0.0.1:1",
        ])
        return try buildApplication(configuration: GatewayConfiguration(environment: env))
    }

    @Test func routesStripTheirPrefixAndKeyWrites() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        try await Self.echo().test(.live) { upstream in
            try await Self.gateway(upstreamPort: try #require(upstream.port), redisURL: redis.url).test(.router) { client in
                let read = try await client.execute(
                    uri: "/social/feed/fetch_feed?x=1",
                    method: .get,
                    headers: [.connection: "X-Hop", HTTPField.Name("X-Hop")!: "1"]
                )
                #expect(read.status == .ok)
                #expect(read.json?["path"] == "/fetch_feed")
                #expect(read.json?["hop"] == .null, "a header named in Connection went upstream")
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
