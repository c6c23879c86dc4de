import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import AnalyticsCore

/// AnalyticsService built in process on the run's Redis and a database of its own: ingest,
/// exact figures and quantiles, late points, hostile input, the rate limit and the cache.
/// Every test uses its own keys and metric types, since Redis is shared.
@Suite("Analytics routes")
struct AnalyticsRouteTests {
    static let adminKey = "analytics-admin-key"

    static func application(_ extra: [String: String] = [:]) async throws -> (some ApplicationProtocol, database: String) {
        let database = try await TestEnvironment.freshDatabase("analytics")
        let env = TestEnvironment.serviceEnvironment(
            [
                "DATABASE_URL": database, "ADMIN_API_KEYS": adminKey, "ANALYTICS_RATE_LIMIT": "1000000000/1",
                "ANALYTICS_EXTERNAL_URL": "", "AUTH_FAILURE_LIMIT": "1000000/60",
            ].merging(extra) { $1 }
        )
        return (try buildApplication(configuration: AnalyticsConfiguration(environment: env)), database)
    }

    static func point(_ type: String, _ value: Double, at micros: Int64 = nowMicros()) -> JSONValue {
        ["type": .string(type), "value": .number(value), "timestamp": .string(Timestamp.iso8601(microseconds: micros))]
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    static func post(_ client: some TestClientProtocol, _ body: JSONValue, batch: Bool = false, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.apiKey] = key }
        return try await client.execute(
            uri: batch ? "/api/metrics/batch" : "/api/metrics",
            method: .post,
            headers: headers,
            body: ByteBuffer(json: body)
        )
    }

    static func summary(_ client: some TestClientProtocol, _ query: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/metrics/summary?" + query, method: .get)
    }

    /// The range query of the whole hours around `micros`, percent-encoded.
    static func range(around micros: Int64, hours: Int64 = 1) -> String {
        let hour = Int64(3_600_000_000)
        let from = Timestamp.iso8601(microseconds: (micros / hour - hours) * hour)
        let to = Timestamp.iso8601(microseconds: (micros / hour + hours + 1) * hour)
        return "from=\(from)&to=\(to)"
    }

    static func sample(_ client: some TestClientProtocol, _ name: String) async throws -> Double {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        return text.split(separator: "\n").filter { $0.hasPrefix(name) }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    @Test func commonRoutesAnswer() async throws {
        try await Self.application().0.test(.router) { client in
            try await client.waitUntilReady()
            let health = try await client.execute(uri: "/health", method: .get).json
            #expect(health?["status"] == "ok" && health?["redis"] == "healthy", "\(String(describing: health))")
            #expect(health?["service"] == "analytics" && health?["checks"]?["postgres"] == "up")
            #expect(try await client.execute(uri: "/openapi.json", method: .get).json?["info"]?["title"] == "AnalyticsService")
            #expect(try await client.execute(uri: "/no/such/route", method: .get).status == .notFound)
        }
    }

    @Test func badConfigurationIsAnErrorNotAnExit() throws {
        for bad in [
            ["HEALTH_INTERVAL_MS": "1"], ["ANALYTICS_RATE_LIMIT": "five"], ["ANALYTICS_RATE_LIMIT": "0/60"],
            ["ANALYTICS_RAW_RETENTION_HOURS": "1"], ["ANALYTICS_CACHE_TTL_MS": "0"],
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try AnalyticsConfiguration(environment: TestEnvironment.serviceEnvironment(bad))
            }
        }
    }

    /// A point 20 hours late changes its own hour's figures; one past the 24-hour window, or
    /// ten minutes ahead, is 422 and stored nowhere.
    @Test func aLatePointLandsInItsBucket() async throws {
        let (app, _) = try await Self.application(["ANALYTICS_CACHE_TTL_MS": "1"])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("late")
            let late = Self.nowMicros() - 20 * 3_600_000_000
            let query = "type=\(type)&\(Self.range(around: late, hours: 0))"
            #expect(try await Self.post(client, Self.point(type, 7, at: late + 1)).status == .created)
            #expect(try await Self.summary(client, query).json?["count"]?.double == Double(1))
            #expect(try await Self.post(client, Self.point(type, 3.5, at: late)).status == .created)
            let after = try await Self.summary(client, query).json
            #expect(
                after?["count"]?.double == Double(2) && after?["min"]?.double == 3.5 && after?["sum"]?.double == 10.5,
                "\(String(describing: after))"
            )
            for micros in [Self.nowMicros() - 25 * 3_600_000_000, Self.nowMicros() + 600_000_000] {
                let refused = try await Self.post(client, Self.point(type, 1, at: micros))
                #expect(refused.status == .unprocessableContent && refused.json?["field"] == "timestamp")
            }
            #expect(try await Self.summary(client, "type=\(type)&period=monthly").json?["count"]?.double == Double(2))
        }
    }

    /// A summary counts a stored point exactly once whether it is still waiting for its
    /// rollup or already in its buckets: the same figures before and after a round, and the
    /// round moves every waiting point (a late one into its own hour).
    @Test func aPointCountsOnceBeforeAndAfterItsRollup() async throws {
        // Rollups only at start, so the points posted below wait until the test rolls them up.
        let (app, database) = try await Self.application(["ANALYTICS_CACHE_TTL_MS": "1", "ANALYTICS_ROLLUP_INTERVAL_MS": "3600000"])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("rollup")
            let now = Self.nowMicros()
            let points = (0..<200).map { Self.point(type, Double($0 % 37) / 4, at: now - Int64($0) * 1_000_000) }
            #expect(try await Self.post(client, .array(Array(points[..<150])), batch: true).status == .created)
            for point in points[150...] { #expect(try await Self.post(client, point).status == .created) }
            #expect(try await Self.post(client, Self.point(type, 99.5, at: now - 3 * 3_600_000_000)).status == .created)
            let query = "type=\(type)&\(Self.range(around: now, hours: 4))&bucket=hour"
            func waiting() async throws -> Int {
                try await withPostgres(url: database) {
                    try await $0.query("SELECT count(*)::bigint AS n FROM analytics.unrolled WHERE type = $1", [type]).first?.decode(
                        "n",
                        as: Int.self
                    ) ?? -1
                }
            }
            #expect(try await waiting() == 201)
            let before = try #require(try await Self.summary(client, query).json)
            #expect(before["count"]?.double == 201 && before["max"]?.double == 99.5, "\(before)")
            let rolled = try await withPostgres(url: database) {
                try await $0.query(RollupService.rollupSQL, [100_000]).first?.decode("n", as: Int.self)
            }
            #expect(rolled == 201, "a fresh database holds this test's points only")
            #expect(try await waiting() == 0)
            let after = try #require(try await Self.summary(client, query).json)
            for key in ["count", "sum", "min", "max", "average_value", "p50", "p95", "p99", "series"] {
                #expect(after[key] == before[key], "\(key): \(String(describing: after[key])) after, \(String(describing: before[key])) before")
            }
        }
    }

    /// Malformed, oversized, deeply nested, non-finite, badly dated and mistyped input: a clear
    /// error naming the field, and nothing stored.
    @Test func hostileInputIsRefusedAndNothingStored() async throws {
        let (app, database) = try await Self.application()
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let now = Timestamp.iso8601(microseconds: Self.nowMicros())
            func raw(_ text: String, batch: Bool = false) async throws -> TestResponse {
                try await client.execute(
                    uri: batch ? "/api/metrics/batch" : "/api/metrics",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: text)
                )
            }
            let cases: [(String, Bool, HTTPResponse.Status, String?)] = [
                ("{", false, .badRequest, nil),
                ("", false, .badRequest, nil),
                (#"{"type": "cpu", "value": NaN, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "value"),
                (#"{"type": "cpu", "value": Infinity, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "value"),
                (#"{"type": "cpu", "value": 1e999, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "value"),
                (#"{"type": "cpu", "value": "12", "timestamp": "\#(now)"}"#, false, .unprocessableContent, "value"),
                (#"{"type": "cpu", "timestamp": "\#(now)"}"#, false, .unprocessableContent, "value"),
                (#"{"type": "c p u", "value": 1, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "type"),
                (#"{"type": "\#(String(repeating: "x", count: 65))", "value": 1, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "type"),
                (#"{"value": 1, "timestamp": "\#(now)"}"#, false, .unprocessableContent, "type"),
                (#"{"type": "cpu", "value": 1, "timestamp": "2026-12-02T07:25:06"}"#, false, .unprocessableContent, "timestamp"),
                (#"{"type": "cpu", "value": 1, "timestamp": "2026-02-30T07:25:06Z"}"#, false, .unprocessableContent, "timestamp"),
                (#"{"type": "cpu", "value": 1, "timestamp": 1733123456}"#, false, .unprocessableContent, "timestamp"),
                (#"{"type": "cpu", "value": 1, "timestamp": "\#(now)", "extra": {"a": [[[[1]]]]}}"#, false, .unprocessableContent, "extra"),
                ("[" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "]", false, .badRequest, nil),
                (#"{"type": "cpu", "value": 1, "timestamp": "\#(now)"}"#, true, .badRequest, nil),
                ("[]", true, .unprocessableContent, "[0]"),
                (
                    "[" + Array(repeating: #"{"type": "cpu", "value": 1, "timestamp": "\#(now)"}"#, count: 10_000).joined(separator: ",") + "]", true,
                    .unprocessableContent, "[1000]"
                ),
                (
                    #"[{"type": "cpu", "value": 1, "timestamp": "\#(now)"}, {"type": "cpu", "value": null, "timestamp": "\#(now)"}]"#, true,
                    .unprocessableContent, "[1].value"
                ),
            ]
            for (body, batch, status, field) in cases {
                let response = try await raw(body, batch: batch)
                #expect(response.status == status, "\(body.prefix(80)): \(response.status)")
                #expect(response.headers[.contentType] == "application/problem+json")
                if let field { #expect(response.json?["field"] == .string(field), "\(body.prefix(80)): \(String(describing: response.json))") }
            }
            let huge = try await raw(
                #"{"type": "cpu", "value": 1, "timestamp": "\#(now)", "pad": ""# + String(repeating: "x", count: 2 << 20) + #""}"#
            )
            #expect(huge.status == .contentTooLarge)
            #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok, "still up")
            let stored = try await withPostgres(url: database) { try await $0.query("SELECT count(*) AS n FROM analytics.points") }
            #expect(try stored.first?.decode("n", as: Int.self) == 0)
        }
    }

    /// 5 per hour (long enough that a loaded machine's pauses do not refill it): five points
    /// pass and the sixth gets 429 with the wait until a slot frees; another key,
    /// and the address without a key, have allowances of their own; a batch that would cross
    /// the limit is refused whole; one bigger than the limit is 422.
    @Test func theRateLimitIsExactPerClient() async throws {
        let keys = (0..<3).map { _ in TestEnvironment.unique("client-key") }
        let (app, _) = try await Self.application(["ANALYTICS_RATE_LIMIT": "5/3600", "CLIENT_API_KEYS": keys.joined(separator: ",")])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("limited")
            for index in 0..<5 {
                let response = try await Self.post(client, Self.point(type, 1), key: keys[0])
                #expect(response.status == .created)
                #expect(response.headers[.rateLimitPolicy] == #""metrics";q=5;w=3600"#)
                // Each point moves the reset 720 s (one emission interval) further out.
                let rateLimit = response.headers[.rateLimit] ?? ""
                #expect(rateLimit.hasPrefix(#""metrics";r=\#(4 - index);t="#), "\(rateLimit)")
                let reset = Int(rateLimit.split(separator: "=").last ?? "") ?? 0
                #expect(reset <= 720 * (index + 1) && reset > 720 * (index + 1) - 30, "\(rateLimit)")
            }
            let refused = try await Self.post(client, Self.point(type, 1), key: keys[0])
            #expect(refused.status == .tooManyRequests && refused.headers[.contentType] == "application/problem+json")
            let retry = Int(refused.headers[.retryAfter] ?? "") ?? 0
            #expect(retry <= 720 && retry > 690, "until the first slot frees, one emission interval after the first point: \(retry)")
            #expect(try await Self.post(client, Self.point(type, 1), key: keys[1]).status == .created)
            #expect(
                try await Self.post(client, Self.point(type, 1), key: "not-a-key-\(keys[2])").status == .created,
                "an unknown key counts as the address"
            )
            #expect(try await Self.post(client, Self.point(type, 1), key: keys[0]).status == .tooManyRequests)

            let three = Array(repeating: Self.point(type, 2), count: 3)
            #expect(try await Self.post(client, .array(three), batch: true, key: keys[2]).status == .created)
            let crossing = try await Self.post(client, .array(three), batch: true, key: keys[2])
            #expect(crossing.status == .tooManyRequests && crossing.headers[.rateLimit]?.contains("r=2") == true)
            #expect(try await Self.post(client, .array(Array(three.prefix(2))), batch: true, key: keys[2]).status == .created)
            let oversized = try await Self.post(client, .array(Array(repeating: Self.point(type, 2), count: 6)), batch: true, key: keys[1])
            #expect(oversized.status == .unprocessableContent)
            let summary = try await Self.summary(client, "type=\(type)&period=hour").json
            #expect(summary?["count"]?.double == 12, "\(String(describing: summary))")
        }
    }

    /// 10 per hour, so the 100 posts need not arrive within one emission interval.
    @Test func exactlyTheLimitOfConcurrentPostsIsAdmitted() async throws {
        let key = TestEnvironment.unique("burst-key")
        let (app, _) = try await Self.application(["ANALYTICS_RATE_LIMIT": "10/3600", "CLIENT_API_KEYS": key])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("burst")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<100 { group.addTask { try await Self.post(client, Self.point(type, Double(index)), key: key).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 10)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 90)
            #expect(try await Self.summary(client, "type=\(type)&period=hour").json?["count"]?.double == Double(10))
        }
    }

    /// A second identical query is a hit; after the TTL a miss again; 50 concurrent misses of a
    /// new query cost one computation.
    @Test func summariesAreReadThroughTheCache() async throws {
        // The TTL runs from the start of the computation, which takes a while in a debug build
        // beside the other tests: long enough for the second query to come within it.
        let (app, _) = try await Self.application(["ANALYTICS_CACHE_TTL_MS": "5000"])
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("cached")
            #expect(try await Self.post(client, Self.point(type, 4)).status == .created)
            let first = try await Self.summary(client, "type=\(type)&period=hour")
            #expect(first.headers[.cacheStatus]?.contains("fwd=miss") == true && first.headers[.age] == "0")
            let hitsBefore = try await Self.sample(client, #"analytics_cache_requests_total{result="hit""#)
            let second = try await Self.summary(client, "type=\(type)&period=hour")
            #expect(
                second.headers[.cacheStatus]?.hasPrefix("analytics; hit; ttl=") == true,
                "\(String(describing: first.headers[.cacheStatus])), then \(String(describing: second.headers[.cacheStatus]))"
            )
            #expect(second.json == first.json)
            #expect(try await Self.sample(client, #"analytics_cache_requests_total{result="hit""#) == hitsBefore + 1)
            #expect(try await Self.post(client, Self.point(type, 6)).status == .created)
            let expired = await poll(timeout: .seconds(20)) {
                try await Self.summary(client, "type=\(type)&period=hour").json?["count"]?.double == Double(2)
            }
            #expect(expired.held, "after the TTL the new point shows: \(expired.explanation)")

            let computed = try await Self.sample(client, "analytics_summary_computations_total")
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<50 { group.addTask { try await Self.summary(client, "type=\(type)&period=weekly") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == .ok && $0.json?["count"]?.double == Double(2) })
            #expect(try await Self.sample(client, "analytics_summary_computations_total") == computed + 1)
            #expect(answers.filter { $0.headers[.cacheStatus]?.hasSuffix("collapsed") == true }.count >= 1)
        }
    }

    /// PostgreSQL bins points exactly as the Swift sketch does, boundaries of bins included.
    @Test func theDatabaseBinsAsTheSketchDoes() async throws {
        let (app, database) = try await Self.application()
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let gamma = 1.01 / 0.99
            var values: [Double] = [0, 1e-10, -1e-10, 1, -1, 1e-9, 1e300, -1e-300, 5e-324, .greatestFiniteMagnitude]
            for exponent in -400...400 {
                let edge = pow(gamma, Double(exponent))
                values += [edge, edge.nextUp, edge.nextDown, -edge]
            }
            let list = JSONValue.array(values.map { .string(String($0)) })
            let rows = try await withPostgres(url: database) { postgres in
                try await postgres.query(
                    "SELECT analytics.sketch_sign(v::float8) AS sign, analytics.sketch_index(v::float8) AS index FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS x (v, n) ORDER BY n",
                    [String(buffer: ByteBuffer(json: list))]
                ).rows
            }
            #expect(rows.count == values.count)
            var differences = 0
            for (value, row) in zip(values, rows) {
                let expected = (QuantileSketch.sign(value), QuantileSketch.index(value))
                if try (row.decode("sign", as: Int.self), row.decode("index", as: Int.self)) != expected {
                    differences += 1
                    if differences < 5 { Issue.record("\(value): PostgreSQL \(row), Swift \(expected)") }
                }
            }
            #expect(differences == 0)
        }
    }
}

/// The 100,000-point exactness run: heavy enough (100 batches parsed, inserted and rolled up
/// at once) to starve the timed waits of the parallel pass, so it runs in the serial pass.
@Suite("Exclusive analytics figures")
struct ExclusiveAnalyticsFigureTests {
    typealias Routes = AnalyticsRouteTests

    /// 100,000 points of a skewed distribution: count, sum, min, max and average exactly
    /// theirs; p50/p95/p99 within 1% of the exact quantiles; the series adds up to the total.
    @Test func figuresAreExactAndQuantilesWithinTheirBound() async throws {
        let (app, _) = try await Routes.application()
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let type = TestEnvironment.unique("latency")
            var random = SplitMix(seed: 42)
            let now = Routes.nowMicros()
            // Thousandths, so the exact sum is an integer sum; spread over the past 90 minutes.
            var thousandths: [Int64] = []
            var points: [JSONValue] = []
            for index in 0..<100_000 {
                let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300)
                let u2 = Double(random.next() >> 11) / Double(1 << 53)
                let value = exp(2 + 1.2 * sqrt(-2 * log(u1)) * cos(2 * .pi * u2))
                let milli = Int64((value * 1000).rounded())
                thousandths.append(milli)
                points.append(Routes.point(type, Double(milli) / 1000, at: now - Int64(index % 5_400) * 1_000_000))
            }
            let batches = stride(from: 0, to: points.count, by: 1_000).map { JSONValue.array(Array(points[$0..<$0 + 1_000])) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in batches {
                    group.addTask {
                        let response = try await Routes.post(client, batch, batch: true)
                        #expect(response.status == .created)
                    }
                }
                try await group.waitForAll()
            }
            let answer = try await Routes.summary(client, "type=\(type)&\(Routes.range(around: now, hours: 2))&bucket=hour&tz=Asia/Kathmandu")
            #expect(answer.status == .ok)
            let json = try #require(answer.json)
            let sorted = thousandths.sorted()
            let sum = Double(thousandths.reduce(0, +)) / 1000
            #expect(json["count"]?.double == 100_000)
            #expect(json["sum"]?.double == sum)
            #expect(json["average_value"]?.double == sum / 100_000)
            #expect(json["min"]?.double == Double(sorted.first!) / 1000 && json["max"]?.double == Double(sorted.last!) / 1000)
            for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
                let exact = Double(sorted[Int((q * 99_999).rounded(.down))]) / 1000
                let estimate = try #require(json[name]?.double)
                #expect(abs(estimate - exact) <= 0.01 * exact + 1e-9, "\(name): \(estimate) for \(exact)")
            }
            guard case .array(let series)? = json["series"] else {
                Issue.record("no series: \(json)")
                return
            }
            #expect(series.compactMap { $0["count"]?.double }.reduce(0, +) == 100_000)
            #expect(series.dropFirst().allSatisfy { $0["from"]?.stringValue?.contains(":15:00") == true }, "Kathmandu's hours start at :15")
            let daily = try await Routes.summary(client, "type=\(type)&period=daily").json
            #expect(daily?["count"]?.double == Double(100_000) && daily?["period"] == "daily")
            #expect(daily?["external_data"]?["status"] == "fallback")
        }
    }
}
