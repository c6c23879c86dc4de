import Foundation
import Shared
import TestSupport
import Testing

@Suite("FlagService faults", .teardown)
struct FlagFaultTests {
    @Test func postgresDownEvaluationsGoOnWritesAnswer503() async throws {
        let postgres = try await PrivatePostgres.start()
        let cluster = try await FlagCluster(instances: 2, databaseURL: postgres.url)
        afterTest {
            await cluster.stop()
            try? await postgres.stop(mode: "immediate")
        }
        #expect(try await cluster.createFlag(#"{"flag_name": "f", "rollout_percentage": 100}"#).status == 201)
        #expect(await eventually { try await cluster.evaluate("u", "f", instance: 1).status == 200 })

        // `fast`: the test servers run with synchronous_commit off, so an immediate stop
        // could lose the last commit, which is not what this test is about.
        try await postgres.stop()
        for index in 0..<2 {
            let evaluation = try await cluster.evaluate("u", "f", instance: index)
            #expect(evaluation.status == 200 && evaluation.json?["enabled"] == true)
            #expect(try await HTTP.get(cluster.instances[index].baseURL + "/flags/f").status == 200)
        }
        let write = try await cluster.updateFlag("f", #"{"status": false}"#)
        #expect(write.status == 503, "\(write.text)")
        #expect(write.header("retry-after") != nil)
        #expect(write.header("content-type") == "application/problem+json")
        #expect(!write.text.contains("SELECT") && !write.text.contains("flags.entities"))
        // The refused write changed nothing anywhere: definitions and answers are as before,
        // and the history (which only PostgreSQL holds) is unavailable rather than made up.
        for index in 0..<2 {
            let base = cluster.instances[index].baseURL
            #expect(try await cluster.evaluate("u", "f", instance: index).json?["enabled"] == true, "instance \(index)")
            let definition = try await HTTP.get(base + "/flags/f").json
            #expect(definition?["status"] == true && definition?["rollout_percentage"] == 100, "instance \(index)")
            let history = try await HTTP.get(base + "/flags/f/history")
            #expect(history.status == 503 && history.header("content-type") == "application/problem+json", "\(history.text)")
        }
        #expect(try await cluster.createFlag(#"{"flag_name": "g"}"#).status == 503)
        #expect(try await cluster.evaluate("u", "g", instance: 1).status == 404)
        // Still ready (it evaluates), and saying what is missing.
        #expect(
            await eventually {
                let ready = try await HTTP.get(cluster.first.baseURL + "/health/ready")
                return ready.status == 200 && ready.json?["status"] == "degraded"
            }
        )

        try await postgres.start()
        let recovered = await eventually(timeout: .seconds(15)) {
            try await cluster.updateFlag("f", #"{"status": false}"#).status == 200
        }
        #expect(recovered)
        #expect(await eventually { try await cluster.evaluate("u", "f", instance: 1).json?["enabled"] == false })
    }

    /// Ready means loaded: an instance started while PostgreSQL is down has nothing to serve
    /// and must say so for as long as it stays down, however fast it would otherwise load.
    @Test func anInstanceStartedWithPostgresDownIsNotReadyUntilItLoads() async throws {
        let postgres = try await PrivatePostgres.start()
        let cluster = try await FlagCluster(instances: 1, databaseURL: postgres.url)
        afterTest {
            await cluster.stop()
            try? await postgres.stop(mode: "immediate")
        }
        #expect(try await cluster.createFlag(#"{"flag_name": "f"}"#).status == 201)
        try await postgres.stop()
        try await cluster.restart(0, waitReady: false)
        let url = cluster.first.baseURL + "/health/ready"
        // Up and answering, and not ready: every answer over a few seconds is 503.
        #expect(await eventually { try await HTTP.get(url).status == 503 })
        var answers: [Int] = []
        let until = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < until {
            answers.append(try await HTTP.get(url).status)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!answers.isEmpty && answers.allSatisfy { $0 == 503 }, "\(answers)")
        #expect(cluster.first.isRunning)

        try await postgres.start()
        #expect(await eventually(timeout: .seconds(20), every: .milliseconds(5)) { try await HTTP.get(url).status == 200 })
        #expect(try await cluster.evaluate("u", "f").json?["enabled"] == true)
    }

    @Test func aRestartedInstanceIsReadyOnlyWithItsSnapshot() async throws {
        let cluster = try await FlagCluster(instances: 2)
        afterTest { await cluster.stop() }
        for index in 0..<20 {
            #expect(try await cluster.createFlag("{\"flag_name\": \"f\(index)\"}").status == 201)
        }
        try await cluster.restart(1, waitReady: false)
        // Polled as fast as it goes: the first ready answer must already come with every flag.
        let ready = await eventually(timeout: .seconds(30), every: .milliseconds(2)) {
            try await HTTP.get(cluster.instances[1].baseURL + "/health/ready").status == 200
        }
        #expect(ready)
        for index in 0..<20 {
            #expect(try await cluster.evaluate("u", "f\(index)", instance: 1).status == 200)
        }
    }

    @Test func redisDownWritesStillLandAndOthersCatchUp() async throws {
        let cluster = try await FlagCluster(instances: 2)
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "f", "rollout_percentage": 0}"#).status == 201)
        try await cluster.redis.stop()
        let write = try await cluster.updateFlag("f", #"{"rollout_percentage": 100}"#)
        #expect(write.status == 200)
        #expect(try await cluster.evaluate("u", "f").json?["enabled"] == true)
        // The other instance learns it from its periodic reload (FLAGS_RESYNC_MS=2000),
        // pub/sub being down.
        #expect(await eventually(timeout: .seconds(10)) { try await cluster.evaluate("u", "f", instance: 1).json?["enabled"] == true })
        try await cluster.redis.start()
        #expect(try await cluster.updateFlag("f", #"{"rollout_percentage": 0}"#).status == 200)
        #expect(await eventually(timeout: .seconds(10)) { try await cluster.evaluate("u", "f", instance: 1).json?["enabled"] == false })
    }

    @Test func hostileInputIsRefusedAndTheServiceStaysUp() async throws {
        let cluster = try await FlagCluster(environment: ["MAX_BODY_BYTES": "65536"])
        afterTest { await cluster.stop() }
        let base = cluster.first.baseURL
        let hostile = [
            "", "[]", "null", "{", #"{"flag_name": "'; DROP TABLE flags.entities; --"}"#,
            "{\"flag_name\": \"a\u{0}b\"}", #"{"flag_name": {"$gt": ""}}"#, String(repeating: "[", count: 10_000),
        ]
        for body in hostile {
            let response = try await cluster.createFlag(body)
            #expect([400, 422].contains(response.status), "\(body.prefix(40)): \(response.status)")
        }
        let huge = try await cluster.createFlag("{\"flag_name\": \"big\", \"description\": \"\(String(repeating: "x", count: 100_000))\"}")
        #expect(huge.status == 413)
        let evil = try await HTTP.get(base + "/users/%27%3B%20DROP%20TABLE%20x%3B--/flags/none")
        #expect(evil.status == 404)
        #expect(try await cluster.createFlag(#"{"flag_name": "still_here"}"#).status == 201)
        #expect(cluster.first.isRunning)
    }
}
