import Foundation
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

/// The rules applied in order in memory: what any number of consumers must end up with.
/// One user's state after applying events one at a time, in order: the README's three default
/// rules written out by hand (not read from `RuleSet`, whose helpers are the code under test).
struct SequentialModel {
    var metrics: [String: Double] = [:]
    var cards = Set<String>()
    var zipCodes = Set<String>()
    /// Access taken away → the rule that took it; restrictions stay once applied.
    var restrictions: [String: String] = [:]

    mutating func apply(_ event: IncomingEvent) {
        let values = Dictionary(uniqueKeysWithValues: event.fields)
        switch event.name {
        case "scam_message_flagged":
            metrics["scam_flags", default: 0] += 1
            // scam_messages: flagged twice or more ⇒ no can_message.
            if metrics["scam_flags"]! >= 2 { restrict("can_message", by: "scam_messages") }
        case "credit_card_added":
            cards.insert(values["card_id"]!)
            zipCodes.insert(values["zip_code"]!)
            metrics["cards"] = Double(cards.count)
            metrics["zip_codes"] = Double(zipCodes.count)
            // card_zip_spread: more than 2 cards and zip codes / cards above 0.75.
            if cards.count > 2, Double(zipCodes.count) / Double(cards.count) > 0.75 { restrict("can_purchase", by: "card_zip_spread") }
        case "purchase_made", "chargeback_occurred":
            let metric = event.name == "purchase_made" ? "spend" : "chargebacks"
            metrics[metric, default: 0] += Double(values["amount"]!)!
            // chargeback_ratio: spend above 0 and chargebacks / spend above 0.10.
            let spend = metrics["spend"] ?? 0
            if spend > 0, (metrics["chargebacks"] ?? 0) / spend > 0.10 { restrict("can_purchase", by: "chargeback_ratio") }
        default:
            Issue.record("the model knows no event \(event.name)")
        }
    }

    private mutating func restrict(_ access: String, by rule: String) {
        if restrictions[access] == nil { restrictions[access] = rule }
    }
}

@Suite("RestrictionConsumer faults", .teardown)
struct RestrictionFaultTests {
    /// Events for `users` users, `perUser` each, interleaved across users, in an order where
    /// the outcome of the card and chargeback rules depends on the order.
    static func events(users: Int, perUser: Int, seed: UInt64) -> [IncomingEvent] {
        var generator = SplitMix(seed: seed)
        var events: [IncomingEvent] = []
        for index in 0..<perUser {
            for user in 0..<users {
                let id = "user-\(user)"
                switch generator.next() % 6 {
                case 0: events.append(IncomingEvent(name: "scam_message_flagged", userID: id))
                case 1, 2:
                    events.append(
                        IncomingEvent(
                            name: "credit_card_added",
                            userID: id,
                            fields: [
                                ("card_id", "c\(generator.next() % 6)"), ("zip_code", "z\(generator.next() % 4)"),
                            ]
                        )
                    )
                case 3, 4: events.append(IncomingEvent(name: "purchase_made", userID: id, fields: [("amount", "\(generator.next() % 50 + 1)")]))
                default: events.append(IncomingEvent(name: "chargeback_occurred", userID: id, fields: [("amount", "\(generator.next() % 8)")]))
                }
                _ = index
            }
        }
        return events
    }

    static func expected(_ events: [IncomingEvent]) -> [String: SequentialModel] {
        var models: [String: SequentialModel] = [:]
        for event in events { models[event.userID, default: SequentialModel()].apply(event) }
        return models
    }

    /// The layout RestrictionConsumer takes on this run's Redis.
    static let keys = RestrictionKeys.service(cluster: TestEnvironment.isRedisClusterRun)

    /// Compares every user's state in Redis with the sequential model.
    static func verify(_ server: PrivateRedis, _ models: [String: SequentialModel], perUser: Int) async throws {
        try await withRedis(server) { redis in
            let users = models.keys.sorted()
            let replies = try await redis.pipeline(users.map { RedisCommand("HGETALL", keys.partition(ofUser: $0).user($0)) })
            for (user, reply) in zip(users, replies) {
                var fields: [String: String] = [:]
                let flat = reply.array ?? []
                for index in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[index].string!] = flat[index + 1].string }
                let model = models[user]!
                #expect(fields["applied"] == "\(perUser)" && fields["seq"] == "\(perUser)", "\(user): \(fields)")
                for (metric, value) in model.metrics {
                    #expect(Double(fields["m:" + metric] ?? "0") == value, "\(user) \(metric): \(fields["m:" + metric] ?? "nil") ≠ \(value)")
                }
                var restrictions: [String: String] = [:]
                for (field, value) in fields where field.hasPrefix("r:") {
                    restrictions[String(field.dropFirst(2))] = String(value.split(separator: "|")[0])
                }
                #expect(restrictions == model.restrictions, "\(user)")
            }
        }
    }

    static func applied(_ server: PrivateRedis) async throws -> Int {
        try await withRedis(server) { redis in
            try await redis.pipeline(keys.partitions.map { RedisCommand("HGET", $0.stats, "applied") }).reduce(0) {
                $0 + ($1.string.flatMap { Int($0) } ?? 0)
            }
        }
    }

    @Test func aKilledConsumerLosesNothingAndAppliesNothingTwice() async throws {
        let cluster = try await RestrictionCluster(role: "api")
        afterTest { await cluster.stop() }
        let claimFast = ["RESTRICTIONS_CLAIM_IDLE_MS": "1000"]
        let first = try await cluster.startConsumer("c1", environment: claimFast)
        let events = Self.events(users: 500, perUser: 100, seed: 1)
        #expect(events.count == 50_000)

        let ingest = Task {
            try await withRedis(cluster.redis) { redis in
                let log = EventLog(redis: redis, keys: Self.keys, configuration: .init())
                for start in stride(from: 0, to: events.count, by: 1000) {
                    _ = try await log.append(Array(events[start..<min(start + 1000, events.count)]), receivedAt: 0)
                }
            }
        }
        let midway = await eventually(timeout: .seconds(60), every: .milliseconds(5)) { try await Self.applied(cluster.redis) >= 5000 }
        #expect(midway)
        first.signal(SIGKILL)
        #expect(await first.waitForExit() == 128 + SIGKILL)
        let appliedAtKill = try await Self.applied(cluster.redis)
        #expect(appliedAtKill < 50_000, "killed after the end: \(appliedAtKill)")
        try await ingest.value

        // Another consumer takes over c1's pending entries and the rest.
        try await cluster.startConsumer("c2", environment: claimFast)
        let done = await eventually(timeout: .seconds(180), every: .milliseconds(100)) {
            let stream = try await cluster.stream()
            return stream["applied"] == 50_000 && stream["pending"] == 0 && stream["lag"] == 0
        }
        let stream = try await cluster.stream()
        #expect(done, "\(stream)")
        #expect(stream["length"] == 50_000)
        #expect(stream["applied"] == 50_000, "each event applied exactly once")
        try await Self.verify(cluster.redis, Self.expected(events), perUser: 100)
    }

    @Test func twoConsumersEndWhereOneInOrderWould() async throws {
        let cluster = try await RestrictionCluster(role: "api")
        afterTest { await cluster.stop() }
        // Small batches, so one user's consecutive events land in both consumers' hands.
        let small = ["RESTRICTIONS_BATCH": "8"]
        let one = try await cluster.startConsumer("c1", environment: small)
        let two = try await cluster.startConsumer("c2", environment: small)
        let events = Self.events(users: 40, perUser: 60, seed: 2)
        try await withRedis(cluster.redis) { redis in
            let log = EventLog(redis: redis, keys: Self.keys, configuration: .init())
            for start in stride(from: 0, to: events.count, by: 100) {
                _ = try await log.append(Array(events[start..<min(start + 100, events.count)]), receivedAt: 0)
            }
        }
        let done = await eventually(timeout: .seconds(120), every: .milliseconds(100)) {
            let stream = try await cluster.stream()
            return stream["applied"] == .number(Double(events.count)) && stream["pending"] == 0
        }
        let status = try await cluster.stream()
        #expect(done, "\(status)")
        try await Self.verify(cluster.redis, Self.expected(events), perUser: 60)
        for consumer in [one, two] {
            let metrics = try await HTTP.get(consumer.baseURL + "/metrics").text
            #expect(metrics.contains(#"restrictions_events_total{outcome="applied"}"#), "a consumer applied nothing")
        }
    }

    @Test func redisRestartedDuringIngestAnswers503AndLosesNothing() async throws {
        let cluster = try await RestrictionCluster(durable: true)
        afterTest { await cluster.stop() }
        let posters = 4
        let perPoster = 120
        let acked = Locked(0)
        let statuses = Locked<[Int: Int]>([:])
        let retryAfter = Locked(0)
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for poster in 0..<posters {
                    group.addTask {
                        for index in 0..<perPoster {
                            while true {
                                let response = try await cluster.post(
                                    "purchase_made",
                                    ["user_id": .string("p\(poster)"), "amount": 1],
                                    eventID: "p\(poster)-\(index)"
                                )
                                statuses.withLock { $0[response.status, default: 0] += 1 }
                                if response.status == 200 { break }
                                if response.status == 503, response.header("retry-after") != nil { retryAfter.withLock { $0 += 1 } }
                                try await Task.sleep(for: .milliseconds(50))
                            }
                            acked.withLock { $0 += 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Generous deadlines: on a busy machine the posters may be slow to get going.
        #expect(await eventually(timeout: .seconds(60)) { acked.withLock { $0 } >= 100 }, "\(statuses.withLock { $0 })")
        try await cluster.redis.stop()
        #expect(await eventually(timeout: .seconds(30)) { retryAfter.withLock { $0 } > 0 }, "no 503 with Retry-After while Redis was down")
        try await cluster.redis.start()
        try await work.value

        #expect(Set(statuses.withLock { $0 }.keys).isSubset(of: [200, 503]), "\(statuses.withLock { $0 })")
        #expect(cluster.api.isRunning)
        for poster in 0..<posters {
            #expect(await cluster.waitApplied("p\(poster)", perPoster, timeout: .seconds(60)), "p\(poster)")
            #expect(try await cluster.user("p\(poster)")["metrics"]?["spend"] == .number(Double(perPoster)))
        }
        #expect(try await cluster.stream()["length"] == .number(Double(posters * perPoster)))
    }
}

/// A value behind a lock, shared with the posting tasks.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
