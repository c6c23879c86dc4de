import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// The proxy path over real sockets: the gateway's real `buildApplication` served live, in
/// front of live upstreams in the test process that say which of them answered and what
/// reached them. Black-box on purpose: the proxy path may be replaced, these stay.
@Suite("Gateway proxy", .teardown)
struct GatewayProxyTests {
    static let adminKey = "gateway-proxy-admin"

    /// An upstream that answers every request with its name, the method, path and headers it
    /// received; `/status/{code}` answers that status. It counts what it served.
    final class Echo: Sendable {
        let name: String
        let served = NIOLockedValueBox(0)

        init(_ name: String) { self.name = name }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.on("**", method: .get) { request, _ in try await self.answer(request) }
            router.on("**", method: .post) { request, _ in try await self.answer(request) }
            router.get("/status/{code}") { request, context in
                try await self.answer(request, status: HTTPResponse.Status(code: try context.parameters.require("code", as: Int.self)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        /// Reads the whole body first: a request cut off on the way is never answered.
        func answer(_ request: Request, status: HTTPResponse.Status = .ok) async throws -> Response {
            _ = try await request.body.collect(upTo: 1 << 20)
            served.withLockedValue { $0 += 1 }
            var headers: [String: JSONValue] = [:]
            for field in request.headers { headers[field.name.canonicalName] = .string(field.value) }
            let object: JSONValue = [
                "upstream": .string(name), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "headers": .object(headers),
            ]
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(json: object)))
        }
    }

    /// The gateway with `FLAG_URL` set to `flagURLs`, on a Redis of the test's own (other
    /// tests' in-process services heartbeat on the run's Redis).
    static func gateway(flagURLs: [String], redis: PrivateRedis, _ extra: [String: String] = [:]) throws -> some ApplicationProtocol {
        let env = TestEnvironment.serviceEnvironment(
            [
                "REDIS_URL": redis.url, "GATEWAY_API_KEYS": adminKey, "FLAG_URL": flagURLs.joined(separator: ","),
                "GATEWAY_RATE_LIMIT": "off", "AUTH_FAILURE_LIMIT": "1000000/60",
            ].merging(extra) { $1 }
        )
        return try buildApplication(configuration: GatewayConfiguration(environment: env))
    }

    static func url(_ port: Int?) throws -> String { "http://127.0.0.1:\(try #require(port))" }

    @Test func hopByHopHeadersAreDroppedAndForwardingHeadersSetOverPlainHTTP() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = Echo("a")
        try await echo.application().test(.live) { upstream in
            for (trusted, forwardedFor) in [(false, "127.0.0.1"), (true, "203.0.113.7, 127.0.0.1")] {
                let gateway = try Self.gateway(
                    flagURLs: [try Self.url(upstream.port)],
                    redis: redis,
                    trusted ? ["TRUSTED_PROXIES": "127.0.0.1"] : [:]
                )
                try await gateway.test(.live) { client in
                    // Raw bytes: HTTP clients (the live test client among them) set their own
                    // `Connection`, and the fields it names are the point here.
                    let answer = try await RawHTTP.exchange(
                        port: try #require(client.port),
                        "GET /flags/anything?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive, X-Secret, X-Other\r\n"
                            + "X-Secret: s\r\nX-Other: o\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\n"
                            + "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-End-To-End: kept\r\nX-Request-Id: rid-1\r\n\r\n",
                        complete: RawHTTP.hasWholeBody
                    )
                    let parts = answer.components(separatedBy: "\r\n\r\n")
                    #expect(parts.first?.hasPrefix("HTTP/1.1 200") == true, "\(answer)")
                    let json = try JSONValue.parse(Data((parts.dropFirst().first ?? "").utf8))
                    let seen = try #require(json["headers"], "\(answer)")
                    #expect(json["path"] == "/anything")
                    for dropped in ["x-secret", "x-other", "keep-alive", "te", "proxy-authorization"] {
                        #expect(seen[dropped] == nil, "\(dropped) reached the upstream")
                    }
                    #expect(seen["x-end-to-end"] == "kept")
                    #expect(seen["x-forwarded-for"] == .string(forwardedFor), "trusted: \(trusted)")
                    // This gateway is the TLS-less edge: what the client claimed is overwritten.
                    #expect(seen["x-forwarded-proto"] == "http")
                    #expect(seen["x-request-id"] == "rid-1")
                }
            }
        }
    }

    @Test func anUnreachableUpstreamIs502AndItsOwn5xxIsPassedOnWithoutOpeningTheBreaker() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = Echo("a")
        try await echo.application().test(.live) { upstream in
            let gateway = try Self.gateway(flagURLs: [try Self.url(upstream.port)], redis: redis, ["POST_URL": "http://127.0.0.1:1"])
            try await gateway.test(.live) { client in
                let unreachable = try await client.execute(uri: "/social/post/get_post_info", method: .get)
                #expect(unreachable.status == .badGateway)
                #expect(unreachable.headers[.contentType] == "application/problem+json")
                // Twice the breaker's window of 500s: they are the upstream's answers, passed on,
                // and it stays closed (an open breaker would answer 503 without calling).
                for _ in 0..<40 {
                    let failed = try await client.execute(uri: "/flags/status/500", method: .get)
                    #expect(failed.status == .internalServerError)
                    #expect(failed.json?["upstream"] == "a")
                }
                #expect(try await client.execute(uri: "/flags/x", method: .get).status == .ok)
                #expect(echo.served.withLockedValue { $0 } == 41)
            }
        }
    }

    /// Two configured instances, the first one unreachable: every read is retried on the next
    /// one until the retry budget (10 tokens, 0.2 per request) runs out; the first refusal
    /// comes exactly where a model of the budget, written here, says.
    @Test func readsAreRetriedOnTheNextInstanceWithinTheBudget() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = Echo("live")
        try await echo.application().test(.live) { upstream in
            let dead = "http://127.0.0.1:\(freePort())"
            let gateway = try Self.gateway(flagURLs: [dead, try Self.url(upstream.port)], redis: redis)
            try await gateway.test(.live) { client in
                var tokens = 10.0
                var expectedFirstRefusal: Int?
                for index in 0..<60 where expectedFirstRefusal == nil {
                    tokens = min(100, tokens + 0.2)
                    // Round robin from the first URL: even requests start on the dead one.
                    guard index % 2 == 0 else { continue }
                    if tokens >= 1 { tokens -= 1 } else { expectedFirstRefusal = index }
                }
                var statuses: [Int] = []
                for _ in 0...(try #require(expectedFirstRefusal)) {
                    statuses.append(Int(try await client.execute(uri: "/flags/read", method: .get).status.code))
                }
                #expect(statuses.dropLast().allSatisfy { $0 == 200 }, "\(statuses)")
                #expect(statuses.last == 502, "\(statuses)")
                #expect(echo.served.withLockedValue { $0 } == statuses.count - 1)
                // A write is never retried: half of them reach the dead instance and fail.
                let writes = try await (0..<4).asyncMap { _ in
                    try await client.execute(uri: "/flags/write", method: .post, headers: [.apiKey: Self.adminKey], body: ByteBuffer(string: "{}"))
                        .status.code
                }
                #expect(writes.sorted() == [200, 200, 502, 502], "\(writes)")
            }
        }
    }

    /// Instances the registry knows (from their heartbeats) are used round robin, instead of
    /// the route's configured URL.
    @Test func requestsAreBalancedOverTheInstancesTheRegistryKnows() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let (a, b) = (Echo("a"), Echo("b"))
        try await a.application().test(.live) { upstreamA in
            try await b.application().test(.live) { upstreamB in
                let client = RedisClient(configuration: TestEnvironment.redisConfiguration(url: redis.url), logger: TestEnvironment.logger)
                let reporters = try [("a", upstreamA.port), ("b", upstreamB.port)].map { name, port in
                    HealthReporter(
                        service: "flags",
                        instance: "flags-\(name)",
                        url: try Self.url(port),
                        checks: [],
                        interval: .milliseconds(100),
                        publishingTo: client,
                        logger: TestEnvironment.logger
                    )
                }
                let group = ServiceGroup(
                    configuration: .init(services: [client] + reporters.map { $0 as any Service }, logger: TestEnvironment.logger)
                )
                let running = Task { try await group.run() }
                afterTest {
                    await group.triggerGracefulShutdown()
                    _ = await running.result
                }
                // The configured URL is nobody: only the registry's instances can answer.
                let gateway = try Self.gateway(flagURLs: ["http://127.0.0.1:\(freePort())"], redis: redis)
                try await gateway.test(.live) { gateway in
                    // Both heartbeats in: two requests in a row reach both instances.
                    #expect(
                        await eventually {
                            var names = Set<String>()
                            for _ in 0..<2 {
                                if case .string(let name)? = try await gateway.execute(uri: "/flags/x", method: .get).json?["upstream"] {
                                    names.insert(name)
                                }
                            }
                            return names == ["a", "b"]
                        }
                    )
                    var answered: [String] = []
                    for _ in 0..<10 {
                        let response = try await gateway.execute(uri: "/flags/x", method: .get)
                        if case .string(let name)? = response.json?["upstream"] { answered.append(name) }
                    }
                    #expect(answered.count == 10)
                    #expect(answered.filter { $0 == "a" }.count == 5 && answered.filter { $0 == "b" }.count == 5, "\(answered)")
                    #expect(zip(answered, answered.dropFirst()).allSatisfy { $0 != $1 }, "not round robin: \(answered)")
                }
            }
        }
    }

    @Test func aStreamedBodyWithoutLengthIsCutAtTheLimitAndKeysOnWritesCanBeOff() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = Echo("a")
        try await echo.application().test(.live) { upstream in
            let gateway = try Self.gateway(
                flagURLs: [try Self.url(upstream.port)],
                redis: redis,
                ["MAX_BODY_BYTES": "1024", "GATEWAY_KEYS_ON_WRITES": "false"]
            )
            try await gateway.test(.live) { client in
                let open = try await client.execute(uri: "/flags/write", method: .post, body: ByteBuffer(string: "{}"))
                #expect(open.status == .ok && open.json?["method"] == "POST", "GATEWAY_KEYS_ON_WRITES=false still asked for a key")

                // Chunked, no Content-Length: only counting the bytes can stop it.
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(client.port))/flags/write")
                request.method = .POST
                let chunks = (0..<8).map { _ in ByteBuffer(repeating: UInt8(ascii: "x"), count: 512) }
                request.body = .stream(chunks.async, length: .unknown)
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                #expect(response.status == .payloadTooLarge)
                #expect(response.headers.first(name: "content-type") == "application/problem+json")
                #expect(echo.served.withLockedValue { $0 } == 1, "the oversized body was answered by the upstream")
            }
        }
    }
}

extension Array where Element == ByteBuffer {
    /// The buffers as an async sequence, for a streamed request body.
    var async: AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for buffer in self { continuation.yield(buffer) }
            continuation.finish()
        }
    }
}
