import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import StreamCore
import TestSupport
import Testing

/// StreamFilter built in process, each test with a database of its own: the filter API, the
/// produce route, access, and the platform's routes.
@Suite("Stream routes")
struct StreamRouteTests {
    static let adminKey = "route-admin-key"
    static let clientKey = "route-client-key"
    static let admin: HTTPFields = [.apiKey: adminKey]

    static func application(_ extra: [String: String] = [:]) async throws -> some ApplicationProtocol {
        let database = try await TestEnvironment.freshDatabase("streams")
        let env = TestEnvironment.serviceEnvironment(
            ["DATABASE_URL": database, "ADMIN_API_KEYS": adminKey, "CLIENT_API_KEYS": clientKey, "AUTH_FAILURE_LIMIT": "1000000/60"]
                .merging(extra) { $1 }
        )
        return try buildApplication(configuration: StreamConfiguration(environment: env))
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func commonRoutesAnswer() async throws {
        try await Self.application().test(.router) { client in
            try await client.waitUntilReady()
            let health = try await client.execute(uri: "/health", method: .get).json
            #expect(health?["service"] == "stream")
            #expect(health?["checks"]?["postgres"] == "up" && health?["checks"]?["filters"] == "up")
            #expect(health?["partitions"]?["p0"]?["lag_ms"] != nil, "the partitions' lag is on /health: \(String(describing: health))")
            #expect(try await client.execute(uri: "/openapi.json", method: .get).json?["info"]?["title"] == "StreamFilter")
            let missing = try await client.execute(uri: "/no/such/route", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            let plain = try await client.execute(uri: "/ws/user_1", method: .get)
            #expect(plain.status == .upgradeRequired && plain.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func badConfigurationIsAnErrorNotAnExit() throws {
        for bad in [["STREAM_PORT": "70000"], ["STREAM_ROLE": "both"], ["STREAM_PARTITIONS": "0"], ["STREAM_LEASE_MS": "100"]] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try StreamConfiguration(environment: TestEnvironment.serviceEnvironment(bad))
            }
        }
    }

    /// The older README's body works as is; every write needs an admin key, on any spelling
    /// of the path; ETags and If-Match as FlagService has them.
    @Test func theFilterLifecycle() async throws {
        try await Self.application().test(.router) { client in
            try await client.waitUntilReady()
            let readme = Self.body(#"{"subscriber_id": "user_1", "event_types": ["purchase"], "user_tiers": ["premium"], "min_amount": 100}"#)
            #expect(try await client.execute(uri: "/filters", method: .post, body: readme).status == .unauthorized)
            #expect(try await client.execute(uri: "/filters", method: .post, headers: [.apiKey: "wrong"], body: readme).status == .forbidden)
            #expect(try await client.execute(uri: "/filters", method: .post, headers: [.apiKey: Self.clientKey], body: readme).status == .forbidden)
            let created = try await client.execute(uri: "/filters", method: .post, headers: Self.admin, body: readme)
            #expect(created.status == .created && created.headers[.location] == "/filters/user_1")
            let record = try #require(created.json)
            #expect(record["event_types"] == ["purchase"] && record["user_tiers"] == ["premium"] && record["min_amount"] == 100)
            let etag = try #require(created.headers[.eTag])
            #expect(try await client.execute(uri: "/filters", method: .post, headers: Self.admin, body: readme).status == .conflict)

            let one = try await client.execute(uri: "/filters/user_1", method: .get)
            #expect(one.status == .ok && one.headers[.eTag] == etag && one.json?["subscriber_id"] == "user_1")
            #expect(try await client.execute(uri: "/filters/user_1", method: .get, headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(try await client.execute(uri: "/filters/nobody", method: .get).status == .notFound)
            let list = try await client.execute(uri: "/filters", method: .get)
            #expect(list.json == .array([record]))
            let listTag = try #require(list.headers[.eTag])
            #expect(try await client.execute(uri: "/filters", method: .get, headers: [.ifNoneMatch: listTag]).status == .notModified)

            for spelling in NonCanonicalPaths.variants(of: "/filters/user_1") {
                for method in [HTTPRequest.Method.patch, .put, .delete] {
                    let code = try await client.execute(uri: spelling, method: method, body: Self.body(#"{"min_amount": 1}"#)).status.code
                    #expect(!(200..<300).contains(code), "\(method) \(spelling) answered \(code) without a key")
                }
            }
            #expect(try await client.execute(uri: "/filters/user_1", method: .get).json?["min_amount"] == 100, "nothing changed")

            // Partial: what is sent replaces, null clears, the rest stays.
            let patched = try await client.execute(
                uri: "/filters/user_1",
                method: .patch,
                headers: Self.admin,
                body: Self.body(#"{"min_amount": null, "user_tiers": ["basic"]}"#)
            )
            #expect(patched.status == .ok && patched.json?["min_amount"] == .null && patched.json?["user_tiers"] == ["basic"])
            #expect(patched.json?["event_types"] == ["purchase"])
            let stale: HTTPFields = [.apiKey: Self.adminKey, .ifMatch: etag]
            #expect(
                try await client.execute(uri: "/filters/user_1", method: .put, headers: stale, body: Self.body(#"{"min_amount": 5}"#)).status
                    == .preconditionFailed
            )
            let current: HTTPFields = [.apiKey: Self.adminKey, .ifMatch: try #require(patched.headers[.eTag])]
            let put = try await client.execute(uri: "/filters/user_1", method: .put, headers: current, body: Self.body(#"{"min_amount": 5}"#))
            #expect(put.status == .ok && put.json?["min_amount"] == 5 && put.json?["user_tiers"] == ["basic"])
            let renamed = try await client.execute(
                uri: "/filters/user_1",
                method: .patch,
                headers: Self.admin,
                body: Self.body(#"{"subscriber_id": "other"}"#)
            )
            #expect(renamed.status == .unprocessableContent && renamed.json?["field"] == "subscriber_id")
            let invalid = try await client.execute(
                uri: "/filters/user_1",
                method: .patch,
                headers: Self.admin,
                body: Self.body(#"{"min_amount": -3}"#)
            )
            #expect(invalid.status == .unprocessableContent && invalid.json?["field"] == "min_amount")
            #expect(try await client.execute(uri: "/filters/nobody", method: .patch, headers: Self.admin, body: Self.body("{}")).status == .notFound)

            #expect(try await client.execute(uri: "/filters/user_1", method: .delete, headers: stale).status == .preconditionFailed)
            #expect(try await client.execute(uri: "/filters/user_1", method: .delete, headers: Self.admin).status == .noContent)
            #expect(try await client.execute(uri: "/filters/user_1", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/filters/user_1", method: .delete, headers: Self.admin).status == .notFound)
            let again = try await client.execute(uri: "/filters", method: .post, headers: Self.admin, body: readme)
            #expect(again.status == .created)
            #expect((again.json?["version"]?.double ?? 0) > (put.json?["version"]?.double ?? .infinity), "versions never repeat")
        }
    }

    @Test(arguments: [
        (#"{"subscriber_id": "u", "event_types": ["purchase"], "min_amount": "a lot"}"#, "min_amount"),
        (#"{"subscriber_id": "no spaces"}"#, "subscriber_id"),
        (#"{"subscriber_id": "u", "user_tiers": [true]}"#, "user_tiers[0]"),
        (#"{"subscriber_id": "u", "conditions": {"field": "amount", "op": "gt"}}"#, "conditions.value"),
    ])
    func badFiltersAre422NamingTheField(body: String, field: String) async throws {
        try await Self.application().test(.router) { client in
            try await client.waitUntilReady()
            let answer = try await client.execute(uri: "/filters", method: .post, headers: Self.admin, body: Self.body(body))
            #expect(answer.status == .unprocessableContent && answer.headers[.contentType] == "application/problem+json")
            #expect(answer.json?["field"] == .string(field), "\(String(buffer: answer.body))")
        }
    }

    @Test func producingAnswersWithPositionsAndARepeatIsANoOp() async throws {
        try await Self.application().test(.router) { client in
            try await client.waitUntilReady()
            let id = "route-" + UUID().uuidString
            let event = #"{"event_id": "\#(id)", "event_type": "purchase", "user_id": "u1", "user_tier": "premium", "amount": 120}"#
            let first = try await client.execute(uri: "/events", method: .post, body: Self.body(event))
            #expect(first.status == .accepted && first.json?["duplicate"] == false)
            let position = try #require(first.json?["id"])
            let repeated = try await client.execute(uri: "/events", method: .post, body: Self.body(event))
            #expect(
                repeated.json?["duplicate"] == true && repeated.json?["id"] == position && repeated.json?["partition"] == first.json?["partition"]
            )

            let batch = (0..<3).map { #"{"event_type": "view", "user_id": "u\#($0)", "user_tier": "free"}"# }.joined(separator: ",")
            let many = try await client.execute(uri: "/events", method: .post, body: Self.body("[\(batch)]"))
            guard case .array(let appended)? = many.json?["events"] else {
                Issue.record("\(String(buffer: many.body))")
                return
            }
            #expect(many.status == .accepted && appended.count == 3 && appended.allSatisfy { $0["duplicate"] == false })

            let bad = try await client.execute(
                uri: "/events",
                method: .post,
                body: Self.body("[\(batch), {\"event_type\": \"x\", \"user_id\": \"u\", \"user_tier\": \"t\", \"amount\": \"1\"}]")
            )
            #expect(bad.status == .unprocessableContent && bad.json?["field"] == "[3].amount")
            #expect(try await client.execute(uri: "/events", method: .post, body: Self.body("[]")).status == .unprocessableContent)
            let tooMany = "[" + Array(repeating: #"{"event_type": "v", "user_id": "u", "user_tier": "t"}"#, count: 1_001).joined(separator: ",") + "]"
            let refused = try await client.execute(uri: "/events", method: .post, body: Self.body(tooMany))
            #expect(refused.status == .unprocessableContent && refused.json?["field"] == "[1000]")
            #expect(try await client.execute(uri: "/events", method: .post, body: Self.body("{not json")).status == .badRequest)
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: 2 << 20)
            #expect(try await client.execute(uri: "/events", method: .post, body: huge).status == .contentTooLarge)
        }
    }

    @Test func keyedAccessPutsReadsProducingAndDeliveryBehindKeys() async throws {
        try await Self.application(["STREAM_ACCESS": "keyed"]).test(.router) { client in
            try await client.waitUntilReady()
            let event = Self.body(#"{"event_type": "purchase", "user_id": "u1", "user_tier": "premium"}"#)
            for (path, method) in [("/filters", HTTPRequest.Method.get), ("/sse/user_1", .get), ("/events", .post)] {
                #expect(try await client.execute(uri: path, method: method, body: event).status == .unauthorized, "\(method) \(path)")
                for spelling in NonCanonicalPaths.variants(of: path) {
                    let code = try await client.execute(uri: spelling, method: method, body: event).status.code
                    #expect(!(200..<300).contains(code), "\(method) \(spelling) answered \(code) without a key")
                }
            }
            #expect(try await client.execute(uri: "/filters", method: .get, headers: [.apiKey: Self.clientKey]).status == .ok)
            #expect(try await client.execute(uri: "/events", method: .post, headers: [.apiKey: Self.clientKey], body: event).status == .accepted)
            #expect(try await client.execute(uri: "/sse/user_1", method: .get, headers: [.apiKey: Self.clientKey]).status == .notFound)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok, "the platform's routes stay open")
        }
    }
}
