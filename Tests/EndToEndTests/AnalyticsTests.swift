import Foundation
import NIOConcurrencyHelpers
import Shared
import TestSupport
import Testing

/// Points sent by the load of a fault test: what was acknowledged (id → value) and every
/// status seen.
final class IngestLedger: Sendable {
    private let state = NIOLockedValueBox<(acked: [Int64: Double], statuses: [Int: Int], errors: Int)>(([:], [:], 0))

    var acked: [Int64: Double] { state.withLockedValue { $0.acked } }
    var statuses: [Int: Int] { state.withLockedValue { $0.statuses } }
    var count: Int { state.withLockedValue { $0.acked.count } }

    /// Posts `value` until it is acknowledged (a refused connection or a 503 is tried again
    /// after `pause`), recording every answer.
    func post(_ cluster: AnalyticsCluster, type: String, value: Double, pause: Duration = .milliseconds(20)) async {
        while true {
            do {
                let result = try await cluster.post(type, value)
                state.withLockedValue { $0.statuses[result.status, default: 0] += 1 }
                if result.status == 201, let id = result.json?["id"]?.double {
                    state.withLockedValue { $0.acked[Int64(id)] = value }
                    return
                }
            } catch {
                state.withLockedValue { $0.errors += 1 }
            }
            try? await Task.sleep(for: pause)
        }
    }
}

/// AnalyticsService as a real process under faults, with real clients: the older service's
/// rate limit, SIGKILL during ingest, Redis restarted and PostgreSQL stopped, the external
/// source failing and hanging, schemathesis, the gateway route. Timed and heavy, so in the
/// serial "Exclusive" pass.
@Suite("Exclusive AnalyticsService", .teardown)
struct ExclusiveAnalyticsTests {
    /// The older service's test: five points in 60 s pass, the sixth is 429 with a
    /// `Retry-After` that is the real wait (a second before it still 429, at it 201); another
    /// address, and an API key, have their own allowance.
    @Test(.timeLimit(.minutes(2)))
    func theOlderServicesRateLimit() async throws {
        let cluster = try await AnalyticsCluster(environment: [
            "ANALYTICS_RATE_LIMIT": "5/60", "CLIENT_API_KEYS": "analytics-client", "TRUSTED_PROXIES": "127.0.0.1/32",
        ])
        afterTest { await cluster.stop() }
        let type = "cpu"
        for _ in 0..<5 { #expect(try await cluster.post(type, 1).status == 201) }
        let refused = try await cluster.post(type, 1)
        let retry = try #require(Int(refused.header("Retry-After") ?? ""))
        #expect(refused.status == 429 && (11...12).contains(retry), "Retry-After \(retry)")
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(refused.header("RateLimit-Policy") == #""metrics";q=5;w=60"#)
        let refusedAt = ContinuousClock.now
        #expect(try await cluster.post(type, 1, headers: ["X-Forwarded-For": "198.51.100.7"]).status == 201, "another client")
        #expect(try await cluster.post(type, 1, headers: ["X-Api-Key": "analytics-client"]).status == 201, "a key's own allowance")
        // Waiting out the limit is the behaviour under test here, not a stand-in for a poll.
        try await Task.sleep(until: refusedAt + .seconds(retry - 1))
        #expect(try await cluster.post(type, 1).status == 429, "a second before Retry-After")
        try await Task.sleep(until: refusedAt + .seconds(retry) + .milliseconds(50))
        #expect(try await cluster.post(type, 1).status == 201, "at Retry-After")
        #expect(try await cluster.summary("type=cpu&period=hour").json?["count"]?.double == 8)
    }

    /// 50,000 posts from 32 clients; the service is SIGKILLed and started again midway (clients
    /// retry what was not acknowledged). Every acknowledged point is stored once with its
    /// value, and the rollups count exactly the stored points once they caught up.
    @Test(.timeLimit(.minutes(5)))
    func aKilledServiceLosesNoAcknowledgedPoint() async throws {
        let cluster = try await AnalyticsCluster()
        afterTest { await cluster.stop() }
        let ledger = IngestLedger()
        let total = 50_000
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<32 {
                    group.addTask {
                        for index in stride(from: client, to: total, by: 32) {
                            await ledger.post(cluster, type: "killed", value: Double(index))
                        }
                    }
                }
            }
        }
        let midway = await poll(timeout: .seconds(120)) { ledger.count >= 15_000 }
        #expect(midway.held)
        try await cluster.restart()
        await load.value
        let stored = try await cluster.storedPoints("killed")
        let acked = ledger.acked
        #expect(acked.count == total, "every post was acknowledged in the end")
        let missing = acked.filter { stored[$0.key] != $0.value }
        #expect(missing.isEmpty, "\(missing.count) acknowledged points are not stored as acknowledged")
        #expect(Set(acked.values).count == total)
        // Extra rows are posts stored whose answer the kill cut off, retried by their client.
        #expect(stored.count >= total && stored.count <= total + 64, "stored \(stored.count)")
        // The summary counts stored points at once, rolled up or not; the rollups catch up.
        #expect(try await cluster.summary("type=killed&period=hour").json?["count"]?.double == Double(stored.count))
        let expected = ["m": Int64(stored.count), "h": Int64(stored.count), "d": Int64(stored.count)]
        var rolledUp: [String: Int64] = [:]
        let caughtUp = await poll(timeout: .seconds(30)) {
            rolledUp = try await cluster.rolledUpCounts("killed")
            return rolledUp == expected
        }
        #expect(caughtUp.held, "\(rolledUp); \(caughtUp.explanation)")
        #expect(ledger.statuses.keys.allSatisfy { [201, 503].contains($0) }, "\(ledger.statuses)")
    }

    /// Ingest goes on through a Redis restart (the limit falls back in process) and answers
    /// 503 with `Retry-After` while PostgreSQL is stopped; no acknowledged point is lost.
    /// Meanwhile a cached summary is served stale, marked so, and an uncached one is 503.
    @Test(.timeLimit(.minutes(3)))
    func redisRestartedAndPostgresStopped() async throws {
        let cluster = try await AnalyticsCluster(ownPostgres: true, environment: ["ANALYTICS_CACHE_TTL_MS": "1000"])
        afterTest { await cluster.stop() }
        let ledger = IngestLedger()
        let running = NIOLockedValueBox(true)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var index = client
                        while running.withLockedValue({ $0 }) {
                            await ledger.post(cluster, type: "faults", value: Double(index), pause: .milliseconds(50))
                            index += 8
                        }
                    }
                }
            }
        }
        #expect(await poll(timeout: .seconds(30)) { ledger.count >= 300 }.held)
        let cached = try await cluster.summary("type=faults&period=daily")
        #expect(cached.status == 200)

        try await cluster.redis.stop()
        let duringRedis = ledger.count
        #expect(await poll(timeout: .seconds(30)) { ledger.count >= duringRedis + 300 }.held, "points are accepted without Redis")
        try await cluster.redis.start()
        #expect(
            await poll(timeout: .seconds(30)) {
                try await cluster.summary("type=faults&period=daily").header("Cache-Status")?.contains("stored") == true
            }.held
        )

        try await cluster.postgres!.stop()
        let refused = await poll(timeout: .seconds(30)) {
            let result = try await cluster.post("faults", -1)
            return result.status == 503 && result.header("Retry-After") != nil && result.header("Content-Type") == "application/problem+json"
        }
        #expect(refused.held, "writes get 503 with Retry-After: \(refused.explanation)")
        let stale = await poll(timeout: .seconds(30)) {
            let result = try await cluster.summary("type=faults&period=daily")
            return result.status == 200 && result.json?["stale"] == true && result.header("Cache-Status")?.contains("stale-if-error") == true
                && Int(result.header("Age") ?? "") ?? 0 >= 1
        }
        #expect(stale.held, "the cached summary is served stale: \(stale.explanation)")
        let uncached = try await cluster.summary("type=faults&period=weekly")
        #expect(uncached.status == 503 && uncached.header("Retry-After") != nil)
        #expect(try await HTTP.get(cluster.baseURL + "/health/live").status == 200)
        try await cluster.postgres!.start()
        let recovered = ledger.count
        #expect(await poll(timeout: .seconds(30)) { ledger.count >= recovered + 300 }.held, "ingest recovers")
        running.withLockedValue { $0 = false }
        await load.value

        let stored = try await cluster.storedPoints("faults")
        let lost = ledger.acked.filter { stored[$0.key] != $0.value }
        #expect(lost.isEmpty, "\(lost.count) of \(ledger.count) acknowledged points lost")
        #expect(ledger.statuses.keys.allSatisfy { [201, 503].contains($0) }, "\(ledger.statuses)")
        #expect(ledger.statuses[503, default: 0] > 0)
        let summary = try await cluster.summary("type=faults&period=monthly").json
        #expect(summary?["count"]?.double == Double(stored.count))
    }

    /// The external source failing, then hanging: the breaker opens, and from then on every
    /// answer is the fallback with the last good data, faster than the call timeout; it
    /// closes again once the source recovers. Its state shows on /health and /metrics.
    @Test(.timeLimit(.minutes(3)))
    func theExternalSourceBehindItsBreaker() async throws {
        let cluster = try await AnalyticsCluster(environment: ["ANALYTICS_CACHE_TTL_MS": "1"])
        afterTest { await cluster.stop() }
        #expect(try await cluster.post("ext", 1).status == 201)
        var query = 0
        func external() async throws -> (JSONValue?, Duration) {
            query += 1
            // A new range each time: every answer is computed, none cached.
            let result = try await cluster.summary(
                "type=ext&from=2026-01-01T00:00:00Z&to=2026-01-01T\(String(format: "%02d", query / 60)):\(String(format: "%02d", query % 60 + 1)):00Z"
            )
            return (result.json?["external_data"], result.elapsed)
        }
        #expect(try await external().0?["status"] == "success")
        for mode in [#"{"failure_rate": 1}"#, #"{"failure_rate": 0, "hang": true}"#] {
            try await cluster.external(mode)
            let opened = await poll(timeout: .seconds(30)) { try await external().0?["reason"] == "circuit open" }
            #expect(opened.held, "\(mode): the breaker opened: \(opened.explanation)")
            for _ in 0..<10 {
                let (data, elapsed) = try await external()
                #expect(data?["status"] == "fallback" && data?["last_good"]?["source"] == "simulated")
                #expect(elapsed < .milliseconds(300), "\(mode): an open breaker answers at once, not after \(elapsed)")
            }
            let health = try await HTTP.get(cluster.baseURL + "/health").json
            #expect(health?["external"] == "unhealthy" && health?["status"] == "degraded", "\(String(describing: health))")
            let gauge = try await HTTP.get(cluster.baseURL + "/metrics").text
            #expect(gauge.contains(#"breaker_state{caller="analytics",dependency="external"} 2"#) || gauge.contains(#"dependency="external"} 1"#))
            try await cluster.external(#"{"failure_rate": 0, "hang": false}"#)
            let closed = await poll(timeout: .seconds(40)) { try await external().0?["status"] == "success" }
            #expect(closed.held, "\(mode): closed again once the source recovered: \(closed.explanation)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func schemathesisFindsNothing() async throws {
        let cluster = try await AnalyticsCluster()
        afterTest { await cluster.stop() }
        do {
            let output = try await Schemathesis.run(cluster.baseURL, adminKey: AnalyticsCluster.adminKey, seed: "20261202", excluding: [])
            #expect(output.contains("passed"))
        } catch let failure as Shell.Failure {
            Issue.record("schemathesis found problems:\n\(failure.output.suffix(6000))")
        }
    }

    /// The gateway's `/analytics` route reaches the service: a point posted through it (with
    /// a key, as every write through the gateway) is in the summary read through it.
    @Test(.timeLimit(.minutes(2)))
    func throughTheGateway() async throws {
        let cluster = try await AnalyticsCluster()
        afterTest { await cluster.stop() }
        let gateway = try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: [
                "REDIS_URL": cluster.redis.url, "ANALYTICS_URL": cluster.baseURL, "GATEWAY_RATE_LIMIT": "off",
                "ADMIN_API_KEYS": AnalyticsCluster.adminKey,
            ]
        )
        afterTest { await ServiceProcess.stopAll([gateway]) }
        let now = Timestamp.iso8601(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        let posted = try await HTTP.post(
            gateway.baseURL + "/analytics/api/metrics",
            json: #"{"type": "gw", "value": 2.5, "timestamp": "\#(now)"}"#,
            headers: ["X-Api-Key": AnalyticsCluster.adminKey]
        )
        #expect(posted.status == 201, "\(posted.text)")
        let summary = try await HTTP.get(gateway.baseURL + "/analytics/api/metrics/summary?type=gw&period=hour").json
        #expect(summary?["count"]?.double == 1 && summary?["average_value"]?.double == 2.5, "\(String(describing: summary))")
    }
}
