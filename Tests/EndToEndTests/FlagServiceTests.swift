import Foundation
import Shared
import TestSupport
import Testing

@Suite("FlagService", .teardown)
struct FlagServiceTests {
    @Test func theFixedAPI() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        let base = cluster.first.baseURL

        let created = try await cluster.createFlag(
            #"{"flag_name": "beta_search", "status": true, "rollout_percentage": 76, "description": "new search"}"#
        )
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json?["flag_name"] == "beta_search")
        #expect(created.json?["rollout_percentage"] == 76)
        #expect(created.json?["status"] == true)
        #expect(created.header("etag") != nil)
        // Defaults: status on, rollout 100.
        #expect(try await cluster.createFlag(#"{"flag_name": "plain"}"#).json?["rollout_percentage"] == 100)

        let duplicate = try await cluster.createFlag(#"{"flag_name": "beta_search"}"#)
        #expect(duplicate.status == 409)
        #expect(duplicate.header("content-type") == "application/problem+json")
        #expect(duplicate.json?["detail"] != nil)

        for (body, field) in [
            (#"{"flag_name": "x", "rollout_percentage": -1}"#, "rollout_percentage"),
            (#"{"flag_name": "x", "rollout_percentage": 101}"#, "rollout_percentage"),
            (#"{"flag_name": "x", "rollout_percentage": NaN}"#, "rollout_percentage"),
            (#"{"flag_name": "x", "rollout_percentage": "50"}"#, "rollout_percentage"),
            (#"{"status": true}"#, "flag_name"),
            ("{\"flag_name\": \"\(String(repeating: "n", count: 129))\"}", "flag_name"),
            (#"{"flag_name": "bad name!"}"#, "flag_name"),
            (#"{"flag_name": "x", "description": "M\u0000d"}"#, "description"),
        ] {
            let response = try await cluster.createFlag(body)
            #expect(response.status == 422, "\(body): \(response.text)")
            #expect(response.json?["field"] == .string(field), "\(body): \(response.text)")
            #expect(response.json?["detail"] != nil)
        }
        #expect(try await cluster.createFlag("not json").status == 400)

        // Legacy bucketing through the API: alice123 is in bucket 75, bob456 in 80.
        let alice = try await cluster.evaluate("alice123", "beta_search")
        #expect(alice.status == 200)
        #expect(alice.json?["user_id"] == "alice123" && alice.json?["flag_name"] == "beta_search" && alice.json?["enabled"] == true)
        #expect(try await cluster.evaluate("bob456", "beta_search").json?["enabled"] == false)
        #expect(try await cluster.evaluate("alice123", "nope").status == 404)
        // Path parameters are percent-decoded.
        #expect(try await cluster.evaluate("a%20b", "beta_search").json?["user_id"] == "a b")
        #expect(try await HTTP.get(base + "/flags/nope").status == 404)

        let all = try await HTTP.get(base + "/flags")
        #expect(all.status == 200)
        guard case .array(let flags)? = all.json else {
            Issue.record("GET /flags: \(all.text)")
            return
        }
        #expect(flags.compactMap { $0["flag_name"] } == ["beta_search", "plain"])

        // PUT is a partial update.
        let updated = try await cluster.updateFlag("beta_search", #"{"rollout_percentage": 81}"#)
        #expect(updated.status == 200)
        #expect(updated.json?["rollout_percentage"] == 81 && updated.json?["description"] == "new search")
        #expect(try await cluster.evaluate("bob456", "beta_search").json?["enabled"] == true)
        #expect(try await cluster.updateFlag("nope", #"{"status": false}"#).status == 404)
        #expect(try await cluster.updateFlag("beta_search", #"{"rollout_percentage": 300}"#).status == 422)
        // PostgreSQL's jsonb cannot store U+0000: refused up front, nothing written.
        let nul = try await cluster.updateFlag("beta_search", #"{"description": "M\u0000d"}"#)
        #expect(nul.status == 422 && nul.json?["field"] == "description", "\(nul.text)")
        #expect(try await HTTP.get(base + "/flags/beta_search").json?["description"] == "new search")

        let userFlags = try await HTTP.get(base + "/users/bob456/flags")
        #expect(userFlags.json?["user_id"] == "bob456")
        guard case .array(let evaluated)? = userFlags.json?["flags"] else {
            Issue.record("\(userFlags.text)")
            return
        }
        #expect(evaluated.count == 2 && evaluated.allSatisfy { $0["enabled"] == true })

        let deleted = try await HTTP.send(base + "/flags/plain", method: .DELETE, headers: cluster.admin, body: nil, timeout: .seconds(5))
        #expect(deleted.status == 204)
        #expect(try await HTTP.get(base + "/flags/plain").status == 404)
        #expect(try await cluster.evaluate("u", "plain").status == 404)
        // Created again after a delete: a new flag with a new version.
        #expect(try await cluster.createFlag(#"{"flag_name": "plain"}"#).status == 201)
    }

    @Test func keysETagsAndHistory() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        let base = cluster.first.baseURL

        #expect(try await HTTP.post(base + "/flags", json: #"{"flag_name": "f"}"#).status == 401)
        #expect(try await HTTP.post(base + "/flags", json: #"{"flag_name": "f"}"#, headers: ["X-Api-Key": "wrong"]).status == 403)
        #expect(try await HTTP.post(base + "/flags", json: #"{"flag_name": "f"}"#, headers: ["X-Api-Key": FlagCluster.clientKey]).status == 403)
        #expect(
            try await HTTP.post(base + "/flags", json: #"{"flag_name": "f"}"#, headers: ["Authorization": "Bearer " + FlagCluster.adminKey]).status
                == 201
        )

        let read = try await HTTP.get(base + "/flags/f")
        let etag = try #require(read.header("etag"))
        #expect(try await HTTP.get(base + "/flags/f", headers: ["If-None-Match": etag]).status == 304)

        let first = try await cluster.updateFlag("f", #"{"rollout_percentage": 10}"#, headers: ["If-Match": etag])
        #expect(first.status == 200)
        let stale = try await cluster.updateFlag("f", #"{"rollout_percentage": 20}"#, headers: ["If-Match": etag])
        #expect(stale.status == 412)
        #expect(stale.header("content-type") == "application/problem+json")
        #expect(try await HTTP.get(base + "/flags/f").json?["rollout_percentage"] == 10)
        let staleDelete = try await HTTP.send(
            base + "/flags/f",
            method: .DELETE,
            headers: cluster.admin.merging(["If-Match": etag]) { $1 },
            body: nil,
            timeout: .seconds(5)
        )
        #expect(staleDelete.status == 412)
        let delete = try await HTTP.send(
            base + "/flags/f",
            method: .DELETE,
            headers: cluster.admin.merging(["If-Match": try #require(first.header("etag"))]) { $1 },
            body: nil,
            timeout: .seconds(5)
        )
        #expect(delete.status == 204)

        let history = try await HTTP.get(base + "/flags/f/history")
        #expect(history.status == 200)
        guard case .array(let entries)? = history.json?["history"] else {
            Issue.record("\(history.text)")
            return
        }
        #expect(entries.compactMap { $0["action"] } == ["delete", "update", "create"])
        #expect(entries[1]["before"]?["rollout_percentage"] == 100 && entries[1]["after"]?["rollout_percentage"] == 10)
        #expect(entries[0]["after"] == .null)
        // The actor is a fingerprint of the key, never the key.
        guard case .string(let actor)? = entries[0]["actor"] else {
            Issue.record("no actor")
            return
        }
        #expect(actor.hasPrefix("key:") && !actor.contains(FlagCluster.adminKey))
        #expect(try await HTTP.get(base + "/flags/never/history").status == 404)
    }

    @Test func segmentsAndReferences() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        let base = cluster.first.baseURL
        let rule = #"{"conditions": [{"operator": "in_segment", "values": ["staff"]}], "serve": {"enabled": true}}"#
        #expect(try await cluster.createFlag(#"{"flag_name": "f", "rollout_percentage": 0, "rules": [\#(rule)]}"#).json?["field"] == "rules")
        let segment = try await HTTP.post(base + "/segments", json: #"{"segment_name": "staff", "included": ["ann"]}"#, headers: cluster.admin)
        #expect(segment.status == 201)
        #expect(try await cluster.createFlag(#"{"flag_name": "f", "rollout_percentage": 0, "rules": [\#(rule)]}"#).status == 201)
        #expect(try await cluster.evaluate("ann", "f").json?["enabled"] == true)
        #expect(try await cluster.evaluate("bob", "f").json?["enabled"] == false)
        // Changing the segment changes the flag's answers.
        let widened = try await HTTP.send(
            base + "/segments/staff",
            method: .PUT,
            headers: cluster.admin.merging(["content-type": "application/json"]) { $1 },
            body: Array(#"{"included": ["ann", "bob"]}"#.utf8),
            timeout: .seconds(5)
        )
        #expect(widened.status == 200)
        #expect(try await cluster.evaluate("bob", "f").json?["enabled"] == true)
        // In use: cannot be deleted.
        #expect(try await HTTP.send(base + "/segments/staff", method: .DELETE, headers: cluster.admin, body: nil, timeout: .seconds(5)).status == 409)
        // Prerequisites must exist and must not make a cycle.
        #expect(try await cluster.createFlag(#"{"flag_name": "g", "prerequisites": [{"flag_name": "missing"}]}"#).json?["field"] == "prerequisites")
        #expect(try await cluster.createFlag(#"{"flag_name": "g", "prerequisites": [{"flag_name": "f"}]}"#).status == 201)
        #expect(try await cluster.updateFlag("f", #"{"prerequisites": [{"flag_name": "g"}]}"#).status == 422)
        #expect(try await HTTP.send(base + "/flags/f", method: .DELETE, headers: cluster.admin, body: nil, timeout: .seconds(5)).status == 409)
        // Targeting attributes from the query string.
        #expect(
            try await cluster.createFlag(
                #"{"flag_name": "geo", "rollout_percentage": 0, "rules": [{"conditions": [{"attribute": "country", "operator": "in", "values": ["DE"]}], "serve": {"enabled": true}}]}"#
            ).status == 201
        )
        #expect(try await HTTP.get(base + "/users/x/flags/geo?country=DE").json?["reason"] == "TARGETING_MATCH")
        #expect(try await HTTP.get(base + "/users/x/flags/geo?country=FR").json?["enabled"] == false)
    }

    /// Pub/sub alone: the periodic reload is set far beyond the test, so a notice that did
    /// not arrive would leave an instance stale.
    @Test func changesReachEveryInstance() async throws {
        let cluster = try await FlagCluster(instances: 3, environment: ["FLAGS_RESYNC_MS": "600000"])
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "p", "rollout_percentage": 0}"#, instance: 1).status == 201)
        for round in 0..<5 {
            let enabled = round % 2 == 0
            let write = try await cluster.updateFlag("p", "{\"rollout_percentage\": \(enabled ? 100 : 0)}", instance: round % 3)
            #expect(write.status == 200)
            for index in 0..<3 {
                let seen = await eventually(timeout: .seconds(3), every: .milliseconds(5)) {
                    try await cluster.evaluate("u", "p", instance: index).json?["enabled"] == .bool(enabled)
                }
                #expect(seen, "instance \(index) round \(round)")
            }
        }
    }

    /// The periodic reload alone: an instance on a Redis of its own never hears a notice and
    /// still catches up within its resync period, while one with a resync beyond the test
    /// stays stale (so nothing else brought the change).
    @Test func theResyncAloneCatchesUpAMissedChange() async throws {
        let cluster = try await FlagCluster(instances: 1)
        let deaf = try await PrivateRedis.start()
        let resyncing = try await ServiceProcess.start(
            "FlagService",
            portVariable: "FLAG_PORT",
            environment: cluster.environment.merging(deaf.environment) { $1 }.merging(["FLAGS_RESYNC_MS": "500"]) { $1 }
        )
        let stale = try await ServiceProcess.start(
            "FlagService",
            portVariable: "FLAG_PORT",
            environment: cluster.environment.merging(deaf.environment) { $1 }.merging(["FLAGS_RESYNC_MS": "600000"]) { $1 }
        )
        afterTest {
            for process in [resyncing, stale] { process.signal(SIGTERM) }
            for process in [resyncing, stale] { _ = await process.waitForExit() }
            try? await deaf.stop()
            await cluster.stop()
        }
        #expect(try await cluster.createFlag(#"{"flag_name": "missed"}"#).status == 201)
        #expect(await eventually { try await HTTP.get(resyncing.baseURL + "/users/u/flags/missed").status == 200 })
        #expect(try await HTTP.get(stale.baseURL + "/users/u/flags/missed").status == 404)
    }

    /// A message on `flags.changes` is only a notice: a definition forged into it by anyone
    /// who can publish on Redis is never applied; the entity is read from PostgreSQL.
    @Test func forgedChangeMessagesChangeNothing() async throws {
        let cluster = try await FlagCluster(instances: 2, environment: ["FLAGS_RESYNC_MS": "600000"])
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "target", "rollout_percentage": 0}"#).status == 201)
        #expect(await eventually(timeout: .seconds(5)) { try await cluster.evaluate("u", "target", instance: 1).status == 200 })
        let forged = [
            #"{"kind":"flag","name":"forged","version":999999,"deleted":false,"definition":{"flag_name":"forged","status":true,"rollout_percentage":100},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#,
            #"{"kind":"flag","name":"target","version":999999,"deleted":false,"definition":{"flag_name":"target","status":true,"rollout_percentage":100},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#,
        ]
        try await withRedis(cluster.redis) { redis in
            for message in forged { _ = try await redis.send("PUBLISH", "flags.changes", message) }
        }
        // A real change after the forged ones: once instance 1 has it, it has read the forged
        // messages too (one channel, in order).
        #expect(try await cluster.createFlag(#"{"flag_name": "after"}"#).status == 201)
        #expect(await eventually(timeout: .seconds(5)) { try await cluster.evaluate("u", "after", instance: 1).status == 200 })
        #expect(try await cluster.evaluate("u", "forged", instance: 1).status == 404)
        #expect(try await cluster.evaluate("u", "target", instance: 1).json?["enabled"] == false)
        #expect(try await HTTP.get(cluster.instances[1].baseURL + "/flags/target").json?["rollout_percentage"] == 0)
    }

    @Test func serverSentEvents() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        let url = cluster.first.baseURL + "/events"
        #expect(try await cluster.createFlag(#"{"flag_name": "before"}"#).status == 201)
        let stream = try await SSEClient(url)
        #expect(stream.status == 200 && stream.contentType == "text/event-stream")
        let snapshot = await stream.events.waitFor { $0.event == "snapshot" }
        #expect(snapshot?.data.contains("\"before\"") == true)

        #expect(try await cluster.createFlag(#"{"flag_name": "live"}"#).status == 201)
        let live = await stream.events.waitFor { $0.event == "flag" && $0.data.contains("\"live\"") }
        #expect(live != nil)
        let lastID = try #require(live?.id)

        // Missed while away: replayed after Last-Event-ID, without a snapshot.
        #expect(try await cluster.updateFlag("live", #"{"status": false}"#).status == 200)
        #expect(
            try await HTTP.send(cluster.first.baseURL + "/flags/before", method: .DELETE, headers: cluster.admin, body: nil, timeout: .seconds(5))
                .status == 204
        )
        let resumed = try await SSEClient(url, headers: ["Last-Event-ID": lastID])
        let replayed = await stream.events.waitFor { $0.data.contains("\"deleted\":true") }
        #expect(replayed != nil)
        let resumedDelete = await resumed.events.waitFor { $0.event == "flag" && $0.data.contains("\"deleted\":true") }
        #expect(resumedDelete != nil)
        #expect(resumed.events.all.contains { $0.event == "flag" && $0.data.contains("\"status\":false") })
        #expect(!resumed.events.all.contains { $0.event == "snapshot" })
        // An id from another instance (or before a restart) gets a snapshot.
        let foreign = try await SSEClient(url, headers: ["Last-Event-ID": "1.1"])
        #expect(await foreign.events.waitFor { $0.event == "snapshot" } != nil)

        // Open streams do not hold up a graceful shutdown.
        cluster.first.signal(SIGTERM)
        #expect(await cluster.first.waitForExit(timeout: .seconds(10)) == 0)
    }
}
