import Foundation
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

@Suite("RestrictionConsumer", .teardown)
struct RestrictionTests {
    /// Posts events for `user` in order and waits until all are applied.
    func send(_ cluster: RestrictionCluster, _ user: String, _ events: [(String, [String: JSONValue])], appliedBefore: Int) async throws {
        for (name, properties) in events {
            var properties = properties
            properties["user_id"] = .string(user)
            let response = try await cluster.post(name, properties)
            #expect(response.status == 200, "\(response.text)")
        }
        let applied = await cluster.waitApplied(user, appliedBefore + events.count)
        #expect(applied, "events of \(user) not applied")
    }

    func card(_ id: String, _ zip: String) -> (String, [String: JSONValue]) {
        ("credit_card_added", ["card_id": .string(id), "zip_code": .string(zip)])
    }

    @Test func eachRuleAtItsThreshold() async throws {
        let cluster = try await RestrictionCluster()
        afterTest { await cluster.stop() }

        // Scam messages: one flag leaves messaging, the second takes it.
        try await send(cluster, "scam", [("scam_message_flagged", [:])], appliedBefore: 0)
        #expect(try await cluster.can("can_message", "scam") == true)
        try await send(cluster, "scam", [("scam_message_flagged", [:])], appliedBefore: 1)
        #expect(try await cluster.can("can_message", "scam") == false)
        #expect(try await cluster.can("can_purchase", "scam") == true)

        // Exactly 2 cards with 2 zip codes (ratio 1) is not "more than 2 cards"; the third
        // card with a third zip code (3 / 3) crosses it.
        try await send(cluster, "two", [card("c1", "10001"), card("c2", "20002")], appliedBefore: 0)
        #expect(try await cluster.can("can_purchase", "two") == true)
        try await send(cluster, "two", [card("c3", "30003")], appliedBefore: 2)
        #expect(try await cluster.can("can_purchase", "two") == false)

        // 3 cards over 2 zips (0.67), then 4 over 3: exactly 0.75 is not above it; 5 over 4 is.
        try await send(cluster, "edge", [card("c1", "10001"), card("c2", "20002"), card("c3", "10001")], appliedBefore: 0)
        #expect(try await cluster.can("can_purchase", "edge") == true)
        try await send(cluster, "edge", [card("c4", "30003")], appliedBefore: 3)
        #expect(try await cluster.can("can_purchase", "edge") == true)
        // The same card again is not another card.
        try await send(cluster, "edge", [card("c4", "40004")], appliedBefore: 4)
        #expect(try await cluster.user("edge")["metrics"]?["cards"] == 4)
        #expect(try await cluster.can("can_purchase", "edge") == false, "4 cards over 4 zip codes is 1.0")

        // Chargebacks: exactly 10% of spend keeps purchasing, a cent more takes it.
        try await send(cluster, "buyer", [("purchase_made", ["amount": 1000]), ("chargeback_occurred", ["amount": 100])], appliedBefore: 0)
        #expect(try await cluster.can("can_purchase", "buyer") == true)
        try await send(cluster, "buyer", [("chargeback_occurred", ["amount": 0.01])], appliedBefore: 2)
        #expect(try await cluster.can("can_purchase", "buyer") == false)
        // No spend: no ratio, no restriction.
        try await send(cluster, "nospend", [("chargeback_occurred", ["amount": 50])], appliedBefore: 0)
        #expect(try await cluster.can("can_purchase", "nospend") == true)

        // A user never seen may do both.
        #expect(try await cluster.can("can_message", "stranger") == true)
        #expect(try await cluster.can("can_purchase", "stranger") == true)

        // The user's restrictions say which rule and which event.
        let buyer = try await cluster.user("buyer")
        guard case .array(let restrictions)? = buyer["restrictions"], let restriction = restrictions.first else {
            Issue.record("no restrictions listed: \(buyer)")
            return
        }
        #expect(restriction["access"] == "can_purchase")
        #expect(restriction["rule"] == "chargeback_ratio")
        #expect(buyer["can_purchase"] == false && buyer["can_message"] == true)
        #expect(buyer["metrics"]?["spend"] == 1000)

        // Restrictions stay: more spend brings the ratio under 10% but not the access back.
        try await send(cluster, "buyer", [("purchase_made", ["amount": 100_000])], appliedBefore: 3)
        #expect(try await cluster.can("can_purchase", "buyer") == false)
    }

    @Test func ingestRefusesWhatIsNotAnEvent() async throws {
        let cluster = try await RestrictionCluster()
        afterTest { await cluster.stop() }
        let url = cluster.api.baseURL + "/event"
        let json = ["Content-Type": "application/json"]
        let cases: [(String, Int, String?)] = [
            (#"{"name": "nope", "event_properties": {"user_id": "u"}}"#, 422, "name"),
            (#"{"event_properties": {"user_id": "u"}}"#, 422, "name"),
            (#"{"name": "purchase_made"}"#, 422, "event_properties"),
            (#"{"name": "purchase_made", "event_properties": [1]}"#, 422, "event_properties"),
            (#"{"name": "purchase_made", "event_properties": {"amount": 1}}"#, 422, "event_properties.user_id"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "", "amount": 1}}"#, 422, "event_properties.user_id"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": {"a": 1}, "amount": 1}}"#, 422, "event_properties.user_id"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u"}}"#, 422, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": -1}}"#, 422, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": "5"}}"#, 422, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": NaN}}"#, 422, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": Infinity}}"#, 422, "event_properties.amount"),
            (#"{"name": "credit_card_added", "event_properties": {"user_id": "u", "card_id": "c"}}"#, 422, "event_properties.zip_code"),
            (#"{"name": "credit_card_added", "event_properties": {"user_id": "u", "zip_code": "z"}}"#, 422, "event_properties.card_id"),
            (#"{"name": "scam_message_flagged", "event_properties": {"user_id": "u"}, "event_id": 5}"#, 422, "event_id"),
            ("[1, 2]", 422, ""),
            ("{not json", 400, nil),
            ("", 400, nil),
        ]
        for (body, status, field) in cases {
            let response = try await HTTP.post(url, json: body, headers: json)
            #expect(response.status == status, "\(body) → \(response.status) \(response.text)")
            #expect(response.header("content-type") == "application/problem+json", "\(body)")
            if let field { #expect(response.json?["field"] == .string(field), "\(body) → \(response.text)") }
        }
        let unknown = try await HTTP.post(url, json: #"{"name": "nope", "event_properties": {"user_id": "u"}}"#, headers: json)
        #expect(unknown.json?["known_events"] == ["scam_message_flagged", "credit_card_added", "purchase_made", "chargeback_occurred"])
        let long = try await cluster.post("scam_message_flagged", ["user_id": .string(String(repeating: "x", count: 300))])
        #expect(long.status == 422)
        let oversized = try await HTTP.post(url, bytes: Array(repeating: UInt8(ascii: " "), count: 2 << 20), headers: json)
        #expect(oversized.status == 413)
        #expect(try await HTTP.get(cluster.api.baseURL + "/canmessage").status == 422)
        #expect(try await HTTP.get(cluster.api.baseURL + "/canpurchase?user_id=").status == 422)

        // Nothing of that reached the stream; ids given as numbers are kept as text.
        #expect(try await cluster.stream()["length"] == 0)
        let numeric = try await cluster.post("credit_card_added", ["user_id": 42, "card_id": 7, "zip_code": 10001])
        #expect(numeric.status == 200)
        #expect(await cluster.waitApplied("42", 1))
        #expect(try await cluster.user("42")["metrics"]?["zip_codes"] == 1)
        #expect(cluster.api.isRunning)
    }

    @Test func aRepeatedEventIDIsANoOpWithTheFirstAnswer() async throws {
        let cluster = try await RestrictionCluster()
        afterTest { await cluster.stop() }
        let first = try await cluster.post("scam_message_flagged", ["user_id": "u"], eventID: "evt-1")
        let again = try await cluster.post("scam_message_flagged", ["user_id": "u"], eventID: "evt-1")
        #expect(first.status == 200 && again.status == 200)
        #expect(first.json?["status"] == "Event 'scam_message_flagged' added to the stream.")
        #expect(first.json?["stream_id"] != nil && first.json?["stream_id"] == again.json?["stream_id"])
        #expect(first.header("idempotent-replayed") == nil)
        #expect(again.header("idempotent-replayed") == "true")
        // The header form is the same key space.
        let viaHeader = try await HTTP.post(
            cluster.api.baseURL + "/event",
            json: #"{"name": "scam_message_flagged", "event_properties": {"user_id": "u"}}"#,
            headers: ["Content-Type": "application/json", "Idempotency-Key": "evt-1"]
        )
        #expect(viaHeader.json?["stream_id"] == first.json?["stream_id"])
        // The same key for another event of the same user is refused.
        let other = try await cluster.post("purchase_made", ["user_id": "u", "amount": 5], eventID: "evt-1")
        #expect(other.status == 422 && other.json?["field"] == "event_id")

        #expect(await cluster.waitApplied("u", 1))
        #expect(try await cluster.stream()["length"] == 1)
        #expect(try await cluster.can("can_message", "u") == true, "one flag, not three")
    }

    /// An `event_id` is scoped to its producer (the key it is sent with) and its user: one
    /// producer cannot pre-claim another's ids, nor learn another's stream ids by replaying them.
    @Test func eventIDsAreScopedToProducerAndUser() async throws {
        let cluster = try await RestrictionCluster()
        afterTest { await cluster.stop() }
        func post(_ user: String, key: String?) async throws -> HTTP.Result {
            var headers = ["Content-Type": "application/json"]
            if let key { headers["X-Api-Key"] = key }
            return try await HTTP.post(
                cluster.api.baseURL + "/event",
                json: #"{"name": "scam_message_flagged", "event_properties": {"user_id": "\#(user)"}, "event_id": "evt-9"}"#,
                headers: headers
            )
        }
        // The attacker claims evt-9 for the victim first, anonymously and with a key of its own.
        let claims = [try await post("victim", key: nil), try await post("victim", key: "attacker-key")]
        let mine = try await post("victim", key: "producer-key")
        let again = try await post("victim", key: "producer-key")
        let otherUser = try await post("bystander", key: "producer-key")
        for answer in claims + [mine, otherUser] {
            #expect(answer.status == 200 && answer.header("idempotent-replayed") == nil)
        }
        let ids = Set((claims + [mine, otherUser]).compactMap { $0.json?["stream_id"].map { "\($0)" } })
        #expect(ids.count == 4, "every scope got an entry of its own")
        #expect(again.header("idempotent-replayed") == "true" && again.json?["stream_id"] == mine.json?["stream_id"])
        #expect(try await cluster.stream()["length"] == 4)
        // Key names carry neither the id, the user nor the producer's key.
        let names = try await cluster.redis.keys(matching: "restrictions:*idem:*")
        #expect(names.count == 4)
        #expect(names.allSatisfy { !$0.contains("evt-9") && !$0.contains("victim") && !$0.contains("producer-key") })
    }

    /// A consumer restarted under its name (`RESTRICTIONS_CONSUMER`) takes up the entries it
    /// had read and not acknowledged, at once: the claim idle time is ten minutes here, so
    /// taking them over cannot explain it.
    @Test func aStableConsumerNameResumesItsOwnPendingEntries() async throws {
        let cluster = try await RestrictionCluster(role: "api", environment: ["RESTRICTIONS_CLAIM_IDLE_MS": "600000"])
        afterTest { await cluster.stop() }
        for index in 0..<5 {
            #expect(try await cluster.post("scam_message_flagged", ["user_id": .string("p\(index)")]).status == 200)
        }
        // Delivered to "c1" and never acknowledged, as a c1 killed mid-batch leaves them.
        try await withRedis(cluster.redis) { redis in
            let streams = RestrictionFaultTests.keys.partitions.map(\.stream)
            for stream in streams { try? await redis.xgroupCreate(stream, group: "restrictions") }
            let entries = try await redis.xreadgroup(group: "restrictions", consumer: "c1", streams: streams.map { ($0, ">") }, count: 100)
            #expect(entries.count == 5)
        }
        #expect(try await cluster.stream()["pending"] == 5)
        try await cluster.startConsumer("c1")
        #expect(
            await eventually {
                let stream = try await cluster.stream()
                return stream["pending"] == 0 && stream["applied"] == 5
            }
        )
        for index in 0..<5 { #expect(try await cluster.user("p\(index)")["events_applied"] == 1) }
    }

    /// Users hash to partitions by the count, so it is fixed for a data set: a consumer told
    /// another count than the one the data was written under stops at start, saying why,
    /// instead of looking for users' state in the wrong partitions.
    @Test func aConsumerWithAnotherPartitionCountRefusesToRun() async throws {
        let cluster = try await RestrictionCluster()
        afterTest { await cluster.stop() }
        #expect(try await cluster.post("scam_message_flagged", ["user_id": "u"]).status == 200)
        #expect(await cluster.waitApplied("u", 1))
        let other = try ServiceProcess(
            executable: "RestrictionConsumer",
            portVariable: "RESTRICTION_PORT",
            environment: cluster.environment.merging(["RESTRICTIONS_ROLE": "consumer", "RESTRICTIONS_PARTITIONS": "7"]) { $1 }
        )
        afterTest { await ServiceProcess.stopAll([other]) }
        let status = await other.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0, "\(other.log)")
        #expect(other.log.contains("RESTRICTIONS_PARTITIONS: this Redis holds restrictions laid out as"), "\(other.log)")
        // The service under the recorded count goes on.
        #expect(try await cluster.post("scam_message_flagged", ["user_id": "u"]).status == 200)
        #expect(await cluster.waitApplied("u", 2))
        #expect(try await cluster.can("can_message", "u") == false)
    }

    @Test func anEntryThatKeepsFailingIsDeadLetteredAndTheUserGoesOn() async throws {
        let cluster = try await RestrictionCluster(environment: [
            "RESTRICTIONS_CLAIM_IDLE_MS": "200", "RESTRICTIONS_MAX_DELIVERIES": "2",
        ])
        afterTest { await cluster.stop() }
        let keys = RestrictionFaultTests.keys
        let victim = keys.partition(ofUser: "victim")
        try await withRedis(cluster.redis) { redis in
            // Not an event at all: dead-lettered at once.
            try await redis.xadd(victim.stream, fields: [("junk", "1")])
            // A key of the wrong type makes applying this user's card fail every time.
            try await redis.set(victim.distinct("cards", user: "victim"), "not a set")
        }
        #expect(try await cluster.post("credit_card_added", ["user_id": "victim", "card_id": "c1", "zip_code": "1"]).status == 200)
        let deadLettered = await eventually(timeout: .seconds(20)) { try await cluster.stream()["dead_letters"] == 2 }
        let status = try await cluster.stream()
        #expect(deadLettered, "\(status)")
        // The failed entry moved none of the user's state: no metric, restriction or hold,
        // neither distinct set, not a known user; only ingest's `seq` and the dead-letter
        // bookkeeping that lets the user's next event go (`applied`, `skip:`).
        try await withRedis(cluster.redis) { redis in
            let flat = try await redis.send("HGETALL", victim.user("victim")).array ?? []
            let fields = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].string }
            #expect(fields.allSatisfy { ["seq", "applied"].contains($0) || $0.hasPrefix("skip:") }, "\(fields)")
            #expect(try await redis.send("EXISTS", victim.distinct("zip_codes", user: "victim")).int == 0)
            #expect(try await redis.get(victim.distinct("cards", user: "victim")) == Array("not a set".utf8))
            #expect(try await redis.send("SISMEMBER", victim.users, "victim").int == 0)
        }
        #expect(try await cluster.post("scam_message_flagged", ["user_id": "victim"]).status == 200)
        // The user's next event was applied once the failing one was set aside.
        #expect(await cluster.waitApplied("victim", 2))
        #expect(try await cluster.user("victim")["metrics"]?["scam_flags"] == 1)
        try await withRedis(cluster.redis) { redis in
            let dead = try await redis.send("XRANGE", victim.deadLetters, "-", "+")
            let reasons = (dead.array ?? []).compactMap { RedisStreamEntryReasons.reason($0) }
            #expect(reasons.contains { $0.hasPrefix("malformed") }, "\(reasons)")
            #expect(reasons.contains("delivered 3 times"), "\(reasons)")
        }
        let stream = try await cluster.stream()
        #expect(stream["pending"] == 0 && stream["lag"] == 0)
        let metrics = try await HTTP.get(cluster.api.baseURL + "/metrics").text
        #expect(metrics.contains(#"restrictions_events_total{outcome="dead_lettered"} 2"#), "\(metrics)")
        #expect(cluster.api.log.contains("event dead-lettered"))
    }
}

/// Reads the `reason` field of an `XRANGE` entry.
enum RedisStreamEntryReasons {
    static func reason(_ entry: RedisReply) -> String? {
        guard let pair = entry.array, pair.count == 2, let fields = pair[1].array else { return nil }
        for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "reason" {
            return fields[index + 1].string
        }
        return nil
    }
}

/// Tripwires with the real thresholds' logic on a real clock: 60 known users, 5 % is 3, a
/// window of 4 s. Exclusive (run alone, after the parallel pass): four users must be flagged
/// within one window, which a machine busy with the rest of the suite could stretch.
@Suite("Exclusive tripwires end to end", .teardown)
struct ExclusiveTripwireTests {
    @Test func aRuleTripsHoldsAlertsRearmsAndIsCounted() async throws {
        let cluster = try await RestrictionCluster(environment: [
            "TRIPWIRE_MIN_USERS": "3", "TRIPWIRE_RATIO": "0.05", "TRIPWIRE_WINDOW_S": "4",
        ])
        let alerts = try await ChannelListener(redisURL: cluster.redis.url, channels: ["tripwire.scam_messages"])
        afterTest {
            await alerts.stop()
            await cluster.stop()
        }
        for user in 0..<60 {
            #expect(try await cluster.post("purchase_made", ["user_id": .string("u\(user)"), "amount": 10]).status == 200)
        }
        #expect(await eventually(timeout: .seconds(20)) { try await cluster.stream()["applied"] == 60 })

        /// Flags `user` twice and waits until both are applied (after the user's purchase);
        /// whether it may still message.
        func flagTwice(_ user: String) async throws -> Bool? {
            for _ in 0..<2 { #expect(try await cluster.post("scam_message_flagged", ["user_id": .string(user)]).status == 200) }
            #expect(await cluster.waitApplied(user, 3))
            return try await cluster.can("can_message", user)
        }
        func held(_ user: String) async throws -> [JSONValue] {
            guard case .array(let held)? = try await cluster.user(user)["held"] else { return [] }
            return held
        }
        func outcomes(_ outcome: String) async throws -> Double? {
            try await metric(cluster.api, #"restrictions_rule_outcomes_total{rule="scam_messages",outcome="\#(outcome)"}"#)
        }

        // Three users restricted: at 5 % of 60, not above it.
        for user in ["u0", "u1", "u2"] { #expect(try await flagTwice(user) == false, "\(user)") }
        #expect(try await outcomes("restricted") == 3)
        // The fourth trips the rule: held (listed, not restricted), announced, counted.
        #expect(try await flagTwice("u3") == true)
        let tripped = await alerts.next { $0["state"] == "tripped" }
        #expect(tripped?["rule"] == "scam_messages")
        #expect(try await held("u3").count == 1)
        #expect(try await flagTwice("u4") == true)
        #expect(try await outcomes("tripped") == 1)
        #expect(try await outcomes("held") == 2)
        let rules = try await HTTP.get(cluster.api.baseURL + "/rules", headers: cluster.admin).json
        guard case .array(let states)? = rules?["rules"], let rule = states.first(where: { $0["name"] == "scam_messages" }) else {
            Issue.record("no scam_messages in /rules: \(String(describing: rules))")
            return
        }
        #expect(rule["state"] == "tripped" && rule["trips"] == 1 && rule["known_users"] == 60, "\(rule)")

        // Once the window has let those users go, a consumer re-arms it, and it restricts again.
        #expect(await alerts.next(timeout: .seconds(15)) { $0["state"] == "armed" && $0["by"] == "rate" } != nil)
        #expect(try await flagTwice("u5") == false)

        // Tripped again; only an operator with the key resets it.
        for user in ["u6", "u7"] { #expect(try await flagTwice(user) == false, "\(user)") }
        #expect(try await flagTwice("u8") == true)
        #expect(await alerts.next { $0["state"] == "tripped" } != nil)
        let reset = cluster.api.baseURL + "/rules/scam_messages/reset"
        #expect(try await HTTP.post(reset, json: "{}").status == 401)
        let done = try await HTTP.post(reset, json: "{}", headers: cluster.admin)
        #expect(done.status == 200 && done.json?["was_tripped"] == true && done.json?["state"] == "armed", "\(done.text)")
        #expect(await alerts.next { $0["state"] == "armed" && $0["by"] == "reset" } != nil)
        #expect(try await flagTwice("u9") == false)
        #expect(try await outcomes("tripped") == 2)
    }
}
