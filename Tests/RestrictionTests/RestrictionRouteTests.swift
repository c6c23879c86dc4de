import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

/// RestrictionConsumer's routes on its real `buildApplication`, in process, with its
/// consumer, against the run's Redis under a stream of the test's own.
@Suite("Restriction routes")
struct RestrictionRouteTests {
    static let adminKey = "restriction-route-admin"

    @Test func anIngestedEventIsAppliedAndItsInsightsAreKeyed() async throws {
        let env = TestEnvironment.serviceEnvironment([
            "ADMIN_API_KEYS": Self.adminKey,
            "RESTRICTIONS_STREAM": TestEnvironment.unique("restrictions:routes"),
            "TRIPWIRE_MIN_USERS": "1000000",
            "AUTH_FAILURE_LIMIT": "1000000/60",
        ])
        let user = TestEnvironment.unique("route_user")
        try await buildApplication(configuration: RestrictionConfiguration(environment: env)).test(.router) { client in
            try await client.waitUntilReady()
            for _ in 0..<2 {
                let event: JSONValue = ["name": "scam_message_flagged", "event_properties": ["user_id": .string(user)]]
                let response = try await client.execute(uri: "/event", method: .post, body: ByteBuffer(json: event))
                #expect(response.status == .ok)
                #expect(response.json?["stream_id"] != nil)
            }
            let restricted = await eventually(timeout: .seconds(20)) {
                try await client.execute(uri: "/canmessage?user_id=\(user)", method: .get).json?["can_message"] == false
            }
            #expect(restricted, "two scam flags did not take messaging")

            let insights = "/users/\(user)/restrictions"
            #expect(try await client.execute(uri: insights, method: .get).status == .unauthorized)
            for spelling in NonCanonicalPaths.variants(of: insights) {
                let code = try await client.execute(uri: spelling, method: .get).status.code
                #expect(!(200..<300).contains(code), "GET \(spelling) answered \(code) without a key")
            }
            let keyed = try await client.execute(uri: insights, method: .get, headers: [.apiKey: Self.adminKey])
            #expect(keyed.json?["events_applied"] == 2)
            #expect(keyed.json?["can_message"] == false)

            let unknown = try await client.execute(uri: "/event", method: .post, body: ByteBuffer(json: ["name": "no_such_event"]))
            #expect(unknown.status == .unprocessableContent)
        }
    }
}

/// The key layout by topology: one Redis keeps one partition under the old names; a cluster
/// takes 16 hash-tagged partitions; `RESTRICTIONS_PARTITIONS` sets the count, within bounds.
@Test func thePartitionLayoutFollowsTheTopology() throws {
    func keys(_ variables: [String: String]) throws -> RestrictionKeys {
        try RestrictionConfiguration(environment: TestEnvironment.serviceEnvironment(variables)).keys
    }
    let cluster = ["REDIS_CLUSTER_NODES": "127.0.0.1:7000,127.0.0.1:7001"]
    #expect(try keys(["REDIS_CLUSTER_NODES": ""]).partitions.map(\.stream) == ["restrictions:events"])
    #expect(try keys(cluster).partitions.count == 16)
    #expect(try keys(cluster).partitions[3].stream == "restrictions:events:{r3}")
    #expect(try keys(cluster.merging(["RESTRICTIONS_PARTITIONS": "1"]) { $1 }).partitions.map(\.stream) == ["restrictions:events:{r0}"])
    #expect(try keys(["REDIS_CLUSTER_NODES": "", "RESTRICTIONS_PARTITIONS": "4"]).partitions.count == 4)
    for bad in ["0", "1025", "many"] {
        #expect(throws: RuleSetError.self) { try keys(["RESTRICTIONS_PARTITIONS": bad]) }
    }
}

/// A rules file in a running service: its catalog, its rules, `GET /rules` and the reset, on
/// a Redis of the test's own.
@Suite("Restriction rules file", .teardown)
struct RestrictionRulesFileTests {
    @Test func aRulesFileReplacesTheDefaultsEndToEnd() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let path = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("rules") + ".json"
        var writer = JSONWriter()
        writer.value(RuleSetTests.custom)
        try Data(writer.buffer.readableBytesView).write(to: URL(fileURLWithPath: path))
        let env = TestEnvironment.serviceEnvironment(
            [
                "ADMIN_API_KEYS": RestrictionRouteTests.adminKey, "RESTRICTIONS_RULES_FILE": path,
                "TRIPWIRE_MIN_USERS": "1000000", "AUTH_FAILURE_LIMIT": "1000000/60",
            ].merging(redis.environment) { $1 }
        )
        let admin: HTTPFields = [.apiKey: RestrictionRouteTests.adminKey]
        try await buildApplication(configuration: RestrictionConfiguration(environment: env)).test(.router) { client in
            try await client.waitUntilReady()
            let rules = try await client.execute(uri: "/rules", method: .get, headers: admin)
            guard case .array(let listed)? = rules.json?["rules"] else {
                Issue.record("\(String(buffer: rules.body))")
                return
            }
            #expect(listed.compactMap { $0["name"] } == ["spread_logins"])
            #expect(listed.first?["state"] == "armed" && listed.first?["clears"] == "can_login")
            #expect(rules.json?["tripwire"]?["minimum_users"] == 1_000_000)
            #expect(try await client.execute(uri: "/rules", method: .get).status == .unauthorized)

            // The defaults' events are gone; the file's are known.
            let old = try await client.execute(
                uri: "/event",
                method: .post,
                body: ByteBuffer(json: ["name": "purchase_made", "event_properties": ["user_id": "x", "amount": 1]])
            )
            #expect(old.status == .unprocessableContent)
            for country in ["DE", "FR", "DE"] {
                let event: JSONValue = ["name": "login_failed", "event_properties": ["user_id": "x", "country": .string(country)]]
                #expect(try await client.execute(uri: "/event", method: .post, body: ByteBuffer(json: event)).status == .ok)
            }
            // Three failures from two countries: 2/3 > 0.5 takes can_login.
            #expect(
                await eventually {
                    try await client.execute(uri: "/users/x/restrictions", method: .get, headers: admin).json?["can_login"] == false
                }
            )

            let reset = "/rules/spread_logins/reset"
            #expect(try await client.execute(uri: reset, method: .post).status == .unauthorized)
            for spelling in NonCanonicalPaths.variants(of: reset) {
                let code = try await client.execute(uri: spelling, method: .post).status.code
                #expect(!(200..<300).contains(code), "POST \(spelling) answered \(code) without a key")
            }
            let done = try await client.execute(uri: reset, method: .post, headers: admin)
            #expect(done.status == .ok && done.json?["was_tripped"] == false && done.json?["state"] == "armed")
            #expect(try await client.execute(uri: "/rules/nope/reset", method: .post, headers: admin).status == .notFound)
        }
    }

    @Test func anUnusableRulesFileIsAConfigurationError() throws {
        let path = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("rules") + ".json"
        try Data(#"{"events": [{"name": "e"}], "metrics": [{"name": "m", "event": "x", "kind": "count"}], "rules": []}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        for file in [path, path + ".missing"] {
            #expect(throws: (any Error).self) {
                try RestrictionConfiguration(environment: TestEnvironment.serviceEnvironment(["RESTRICTIONS_RULES_FILE": file]))
            }
        }
    }
}
