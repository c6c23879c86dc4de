import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@Suite("HTTP kit")
struct HTTPKitTests {
    struct Payload: Codable {
        var name: String
        var count: Int
        var tags: [String]?
    }

    func configuration(_ extra: [String: String] = [:]) -> ServiceConfiguration {
        var env = [
            "REDIS_URL": TestEnvironment.redisURL,
            "DATABASE_URL": TestEnvironment.databaseURL,
            "HEALTH_INTERVAL_MS": "100",
            "MAX_BODY_BYTES": "1024",
            "LOG_LEVEL": "critical",
        ]
        for (key, value) in extra { env[key] = value }
        return ServiceConfiguration(service: "kit", portVariable: "KIT_PORT", defaultPort: 0, environment: EnvironmentReader(env))
    }

    func makeApp(_ config: ServiceConfiguration? = nil, postgres: Bool = false) -> some ApplicationProtocol {
        var runtime = ServiceRuntime(configuration: config ?? configuration())
        if postgres { _ = runtime.addPostgres(migrating: Migrator(schema: "kit", migrations: [])) }
        let router = runtime.makeRouter(
            openAPI: OpenAPIDocument(title: "Kit", paths: ["/echo": ["post": ["responses": ["200": ["description": "ok"]]]]])
        )
        router.post("/echo") { request, context in
            try Response.json(try await request.decodeJSON(as: Payload.self, context: context))
        }
        router.get("/needs") { request, _ in
            ["value": try request.requiredQuery("user_id")]
        }
        router.get("/down") { _, _ -> String in
            throw DependencyUnavailableError(dependency: "postgres", reason: "password=hunter2 host=db", retryAfter: .seconds(3))
        }
        router.get("/open") { _, _ -> String in
            throw CircuitOpenError(dependency: "profile", retryAfter: .milliseconds(1500))
        }
        router.get("/boom") { _, _ -> String in
            throw PostgresError.server(sqlState: "42601", message: "syntax error at SELECT password FROM users")
        }
        let limiter = RateLimiter(
            redis: runtime.redis,
            keyPrefix: "kit:ratelimit:\(UUID().uuidString):",
            clock: ContinuousClock(),
            logger: runtime.logger
        )
        router.group("/limited")
            .add(middleware: RateLimitMiddleware(limiter: limiter, policy: RateLimitPolicy(name: "kit", limit: 3, period: .seconds(60))))
            .get { _, _ in "ok" }
        router.group("/admin")
            .add(middleware: APIKeyMiddleware(keys: APIKeySet(["k1", "k2"]), verifier: runtime.keys))
            .get { _, _ in "read" }
            .post { _, context in "wrote with \(context.apiKeyID ?? "")" }
        return runtime.makeApplication(router: router)
    }

    func problem(_ response: TestResponse) throws -> [String: JSONValue] {
        #expect(response.headers[.contentType] == "application/problem+json")
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)) else {
            Issue.record("problem is not an object")
            return [:]
        }
        #expect(object["status"] == .number(Double(response.status.code)))
        #expect(object["title"] != nil && object["type"] != nil && object["detail"] != nil)
        return object
    }

    @Test func requestIDsAreGeneratedOrEchoed() async throws {
        try await makeApp().test(.router) { client in
            let generated = try await client.execute(uri: "/health/live", method: .get)
            #expect(UUID(uuidString: generated.headers[.requestID] ?? "") != nil)
            let echoed = try await client.execute(uri: "/health/live", method: .get, headers: [.requestID: "abc-123"])
            #expect(echoed.headers[.requestID] == "abc-123")
            let forged = try await client.execute(uri: "/health/live", method: .get, headers: [.requestID: "x\" level=error"])
            #expect(forged.headers[.requestID] != "x\" level=error")
            let missing = try await client.execute(uri: "/nowhere", method: .get, headers: [.requestID: "req-404"])
            #expect(missing.headers[.requestID] == "req-404")  // errors carry it too
        }
    }

    @Test func errorsAreProblemDocuments() async throws {
        try await makeApp().test(.router) { client in
            let notFound = try await client.execute(uri: "/nowhere", method: .get)
            #expect(notFound.status == .notFound)
            _ = try problem(notFound)

            let malformed = try await client.execute(uri: "/echo", method: .post, body: ByteBuffer(string: "{\"name\": "))
            #expect(malformed.status == .badRequest)
            #expect(try problem(malformed)["type"] == "/problems/malformed-request")

            let empty = try await client.execute(uri: "/echo", method: .post)
            #expect(empty.status == .badRequest)

            let missing = try await client.execute(uri: "/echo", method: .post, body: ByteBuffer(string: "{\"name\": \"a\"}"))
            #expect(missing.status == .unprocessableContent)
            #expect(try problem(missing)["field"] == "count")

            let wrongType = try await client.execute(uri: "/echo", method: .post, body: ByteBuffer(string: "{\"name\": \"a\", \"count\": \"7\"}"))
            #expect(wrongType.status == .unprocessableContent)
            #expect(try problem(wrongType)["field"] == "count")

            let nested = try await client.execute(
                uri: "/echo",
                method: .post,
                body: ByteBuffer(string: "{\"name\": \"a\", \"count\": 1, \"tags\": [\"x\", 2]}")
            )
            #expect(try problem(nested)["field"] == "tags[1]")

            let query = try await client.execute(uri: "/needs", method: .get)
            #expect(query.status == .unprocessableContent)
            #expect(try problem(query)["field"] == "user_id")

            let fine = try await client.execute(
                uri: "/echo",
                method: .post,
                body: ByteBuffer(string: "{\"name\": \"'; DROP TABLE x; --\", \"count\": 1}")
            )
            #expect(fine.status == .ok)
            #expect(String(buffer: fine.body).contains("DROP TABLE"))
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        try await makeApp().test(.router) { client in
            let big = ByteBuffer(string: "{\"name\": \"" + String(repeating: "x", count: 5000) + "\", \"count\": 1}")
            let response = try await client.execute(uri: "/echo", method: .post, body: big)
            #expect(response.status == .contentTooLarge)
            #expect(try problem(response)["type"] == "/problems/payload-too-large")
        }
    }

    @Test func dependencyFailuresAre503WithRetryAfterAndLeakNothing() async throws {
        try await makeApp().test(.router) { client in
            let down = try await client.execute(uri: "/down", method: .get)
            #expect(down.status == .serviceUnavailable)
            #expect(down.headers[.retryAfter] == "3")
            #expect(!String(buffer: down.body).contains("hunter2"))
            #expect(try problem(down)["dependency"] == "postgres")

            let open = try await client.execute(uri: "/open", method: .get)
            #expect(open.status == .serviceUnavailable)
            #expect(open.headers[.retryAfter] == "2")

            let boom = try await client.execute(uri: "/boom", method: .get)
            #expect(boom.status == .internalServerError)
            let body = String(buffer: boom.body)
            #expect(!body.contains("SELECT") && !body.contains("42601") && !body.contains("password"))
            #expect(try problem(boom)["type"] == "/problems/internal")
        }
    }

    @Test func healthEndpoints() async throws {
        try await makeApp(postgres: true).test(.router) { client in
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
            // Readiness waits for the migrations, which a busy machine can hold past 10 s.
            try await client.waitUntilReady()
            let summary = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await client.execute(uri: "/health", method: .get).body))
            #expect(summary["status"] == "ok")
            #expect(summary["redis"] == "healthy")
            #expect(summary["checks"]?["postgres"] == "up")
        }
    }

    @Test func readinessFailsWhileARequiredDependencyIsDown() async throws {
        let config = configuration(["REDIS_URL": "redis://127.0.0.1:\(freePort())"])
        try await makeApp(config).test(.router) { client in
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.headers[.retryAfter] != nil)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: ready.body))
            #expect(body["checks"]?["redis"] == "down")
            #expect(body["status"] == "degraded")
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
        }
    }

    @Test func metricsAreValidPrometheusText() async throws {
        try await makeApp().test(.router) { client in
            _ = try await client.execute(uri: "/health/live", method: .get)
            _ = try await client.execute(uri: "/nowhere", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            #expect(PrometheusText.isValid(text))
            #expect(text.contains("http_requests_total{route=\"/health/live\",method=\"GET\",status=\"200\"} 1"))
            #expect(text.contains("http_request_duration_seconds_bucket{route=\"/health/live\""))
            #expect(text.contains("pool_connections_open{pool=\"redis\"}"))
        }
    }

    @Test func openAPIDocumentListsTheRoutes() async throws {
        try await makeApp().test(.router) { client in
            let document = try JSONDecoder().decode(
                JSONValue.self,
                from: Data(buffer: try await client.execute(uri: "/openapi.json", method: .get).body)
            )
            #expect(document["openapi"] == "3.1.0")
            for path in ["/health", "/health/ready", "/health/live", "/metrics", "/echo"] {
                #expect(document["paths"]?[path] != nil)
            }
        }
    }

    @Test func apiKeysGuardWrites() async throws {
        let config = configuration()
        try await makeApp(config).test(.router) { client in
            #expect(try await client.execute(uri: "/admin", method: .get).status == .ok)
            let none = try await client.execute(uri: "/admin", method: .post)
            #expect(none.status == .unauthorized)
            #expect(try await client.execute(uri: "/admin", method: .post, headers: [.apiKey: "nope"]).status == .forbidden)
            let good = try await client.execute(uri: "/admin", method: .post, headers: [.apiKey: "k2"])
            // The handler sees the key's fingerprint, never the key.
            #expect(String(buffer: good.body) == "wrote with " + config.keyFingerprinter.fingerprint("k2"))
            #expect(!String(buffer: good.body).contains("k2"))
            let bearer = try await client.execute(uri: "/admin", method: .post, headers: [.authorization: "Bearer k1"])
            #expect(bearer.status == .ok)
        }
    }

    /// Refused key checks are limited per client: past the limit even the right key gets
    /// 429, so guessing costs the same whether a guess is right or wrong.
    @Test func refusedKeysAreRateLimitedPerClient() async throws {
        try await makeApp(configuration(["AUTH_FAILURE_LIMIT": "3/60"])).test(.router) { client in
            for guess in ["a", "b"] {
                #expect(try await client.execute(uri: "/admin", method: .post, headers: [.apiKey: guess]).status == .forbidden)
            }
            #expect(try await client.execute(uri: "/admin", method: .post).status == .unauthorized)  // a missing key counts too
            let blocked = try await client.execute(uri: "/admin", method: .post, headers: [.apiKey: "k1"])
            #expect(blocked.status == .tooManyRequests)
            // Up to one emission interval (60 s / 3), less the time the three refusals took.
            #expect(blocked.headers[.retryAfter].flatMap(Int.init).map { (1...20).contains($0) } == true)
            _ = try problem(blocked)
            // Reads that need no key are not affected.
            #expect(try await client.execute(uri: "/admin", method: .get).status == .ok)
        }
    }

    /// Non-canonical spellings of a path are refused before any route sees them; a trailing
    /// slash reaches the same route, and so the same key check.
    @Test(arguments: ["//admin", "/admin//", "/./admin", "/admin/.", "/x/../admin", "/admin%2F", "/%2e/admin", "/admin%5C", "/ad%00min", "/admin\\"])
    func nonCanonicalPathsAreRefused(path: String) async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.execute(uri: path, method: .post, headers: [:])
            #expect(response.status == .badRequest, "\(path)")
            #expect(try problem(response)["type"] == "/problems/non-canonical-path")
        }
    }

    @Test func aTrailingSlashIsTheSameRouteAndTheSameCheck() async throws {
        try await makeApp().test(.router) { client in
            let slashed = try await client.execute(uri: "/admin/", method: .post)
            #expect(slashed.status == .unauthorized)
            #expect(try await client.execute(uri: "/ADMIN", method: .post).status == .notFound)
            #expect(try await client.execute(uri: "/admin/", method: .post, headers: [.apiKey: "k1"]).status == .ok)
        }
    }

    @Test func impossibleSettingsAreRefusedWithTheirName() throws {
        for (name, value) in [
            ("HEALTH_INTERVAL_MS", "9223372036854775807"), ("REDIS_POOL_SIZE", "-1"), ("PG_POOL_SIZE", "0"),
            ("MAX_BODY_BYTES", "0"), ("KIT_PORT", "70000"), ("REDIS_TIMEOUT_MS", "0"), ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("AUTH_FAILURE_LIMIT", "0/60"), ("REDIS_URL", "http://nope"), ("REDIS_CLUSTER_NODES", "127.0.0.1:7000,nohost"),
            ("REDIS_CLUSTER_NODES", "127.0.0.1:0"), ("REDIS_CLUSTER_REFRESH_MS", "0"),
        ] {
            do {
                _ = try configuration([name: value]).validated()
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect("\(error)".contains(name), "\(error)")
            }
        }
        _ = try configuration().validated()
    }
}

/// The rate-limit headers count whole seconds of Redis TIME: exact only while the requests
/// take well under a second, so this runs in the serial pass (`Exclusive…`), not beside the
/// rest of the suite on two busy cores.
@Suite("Exclusive HTTP kit rate limit")
struct ExclusiveRateLimitHeadersTests {
    let kit = HTTPKitTests()

    @Test func rateLimitHeadersAnd429() async throws {
        try await kit.makeApp().test(.router) { client in
            for remaining in [2, 1, 0] {
                let response = try await client.execute(uri: "/limited", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.xRateLimitRemaining] == String(remaining))
                #expect(response.headers[.rateLimitPolicy] == "\"kit\";q=3;w=60")
            }
            // Made-up API keys do not buy a fresh allowance.
            let forged = try await client.execute(uri: "/limited", method: .get, headers: [.apiKey: "made-up-\(UUID())"])
            #expect(forged.status == .tooManyRequests)
            let refused = try await client.execute(uri: "/limited", method: .get)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "20")  // one emission interval: 60 s / 3
            #expect(refused.headers[.rateLimit] == "\"kit\";r=0;t=60")
            _ = try kit.problem(refused)
        }
    }
}
