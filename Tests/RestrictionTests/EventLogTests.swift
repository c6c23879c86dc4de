import Foundation
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

/// The ingest and apply scripts on a Redis of the test's own: per-user numbering and the
/// applier's sequencing, idempotency keys and their window, trimming.
@Suite("Event log and applier", .teardown)
struct EventLogTests {
    struct Fixture {
        let redis: RedisClient
        let keys: RestrictionKeys
        let log: EventLog
        let applier: EventApplier

        func read() async throws -> [RedisStreamEntry] {
            try await redis.xreadgroup(group: "g", consumer: "test", streams: keys.partitions.map { ($0.stream, ">") }, count: 10_000)
        }

        func applied(_ user: String) async throws -> String? {
            try await redis.send("HGET", keys.partition(ofUser: user).user(user), "applied").string
        }
    }

    static func withFixture(
        _ configuration: EventLog.Configuration = .init(),
        keys: RestrictionKeys = RestrictionKeys(),
        _ body: (Fixture) async throws -> Void
    ) async throws {
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        try await withRedis(url: server.url) { redis in
            let applier = EventApplier(
                redis: redis,
                keys: keys,
                group: "g",
                rules: .defaults,
                tripwire: TripwireConfiguration(window: .seconds(300), ratio: 0.05, minimumUsers: 1_000_000)
            )
            for partition in keys.partitions { try await redis.xgroupCreate(partition.stream, group: "g") }
            try await body(Fixture(redis: redis, keys: keys, log: EventLog(redis: redis, keys: keys, configuration: configuration), applier: applier))
        }
    }

    static func flagged(_ user: String, key: String? = nil) -> IncomingEvent {
        IncomingEvent(name: "scam_message_flagged", userID: user, idempotencyKey: key)
    }

    @Test func aUsersEventsApplyInTheirOrderExactlyOnce() async throws {
        try await Self.withFixture { fixture in
            _ = try await fixture.log.append([Self.flagged("u"), Self.flagged("u"), Self.flagged("v"), Self.flagged("u")], receivedAt: 0)
            let entries = try await fixture.read()
            #expect(entries.count == 4)
            func apply(_ indices: [Int]) async throws -> [EventApplier.Outcome] {
                try await fixture.applier.apply(indices.map { entries[$0] }, now: 0).map { try $0.get() }
            }
            // u's second event before its first: deferred, nothing applied.
            #expect(try await apply([1]) == [.deferred])
            #expect(try await fixture.applied("u") == nil)
            // Another user is not held up by u.
            #expect(try await apply([2]) == [.applied([])])
            #expect(try await apply([0]) == [.applied([])])
            #expect(try await apply([0]) == [.duplicate], "a redelivery is only acknowledged")
            #expect(try await apply([1, 3]) == [.applied(["restricted:scam_messages"]), .applied([])])
            #expect(try await fixture.applied("u") == "3")
            #expect(try await fixture.redis.send("HGET", fixture.keys.partitions[0].user("u"), "m:scam_flags").string == "3")
            #expect(try await fixture.redis.send("HGET", fixture.keys.partitions[0].user("v"), "m:scam_flags").string == "1")

            // Not an event at all.
            try await fixture.redis.xadd(fixture.keys.partitions[0].stream, fields: [("junk", "1")])
            guard case .malformed? = try await fixture.applier.apply(try await fixture.read(), now: 0).first.map({ try $0.get() }) else {
                Issue.record("junk was not malformed")
                return
            }
        }
    }

    @Test func aRepeatedKeyAnswersTheFirstPostWithinItsWindow() async throws {
        try await Self.withFixture(EventLog.Configuration(idempotencyTTL: .seconds(3600))) { fixture in
            let first = try await fixture.log.append(Self.flagged("u", key: "k"), receivedAt: 0)
            let again = try await fixture.log.append(Self.flagged("u", key: "k"), receivedAt: 0)
            #expect(!first.replayed && again.replayed && again.id == first.id)
            #expect(try await fixture.redis.send("XLEN", fixture.keys.partitions[0].stream).int == 1)
            // Per user: the same key for another user is another event.
            #expect(try await !fixture.log.append(Self.flagged("w", key: "k"), receivedAt: 0).replayed)
            // The same key for a different event is refused.
            await #expect(throws: IdempotencyConflict.self) {
                try await fixture.log.append(
                    IncomingEvent(name: "purchase_made", userID: "u", fields: [("amount", "1")], idempotencyKey: "k"),
                    receivedAt: 0
                )
            }
            // The window is the key's expiry: remembered for the hour configured, then forgotten
            // (a busy machine may have taken some seconds since the first post; not 100).
            let key = fixture.keys.partitions[0].idempotency("k", producer: EventLog.anonymousProducer, user: "u")
            let ttl = try await fixture.redis.send("PTTL", key).int ?? -2
            #expect(ttl > 3_500_000 && ttl <= 3_600_000, "\(ttl)")
            _ = try await fixture.redis.send("DEL", key)
            #expect(try await !fixture.log.append(Self.flagged("u", key: "k"), receivedAt: 0).replayed)
        }
    }

    /// `MAXLEN ~` trims whole stream nodes (100 entries each by default), so the length stays
    /// within one node of the limit.
    @Test func theStreamIsTrimmedToAboutItsLimit() async throws {
        try await Self.withFixture(EventLog.Configuration(maxLength: 50)) { fixture in
            for batch in 0..<10 {
                _ = try await fixture.log.append((0..<100).map { Self.flagged("u\(batch)-\($0)") }, receivedAt: 0)
            }
            let length = try await fixture.redis.send("XLEN", fixture.keys.partitions[0].stream).int ?? -1
            #expect(length >= 50 && length <= 150, "\(length) of 1000 appended")
        }
    }

    /// One partition keeps the names of earlier versions; more put each partition's keys in
    /// one hash slot, each user in the partition its hash picks, always the same one.
    @Test func partitionsByUserEachInOneSlot() async throws {
        let legacy = RestrictionKeys()
        #expect(legacy.partitions.map(\.stream) == ["restrictions:events"])
        #expect(legacy.partitions[0].user("u") == "restrictions:u:u" && legacy.partitions[0].users == "restrictions:users")
        #expect(RestrictionKeys(partitions: 1, tagged: true).partitions[0].stream == "restrictions:events:{r0}")

        let keys = RestrictionKeys(partitions: 4)
        for partition in keys.partitions {
            let slots = Set(
                [
                    partition.stream, partition.deadLetters, partition.user("a{b}c"), partition.distinct("cards", user: "x"), partition.users,
                    partition.stats, partition.rule("r"), partition.window("r"), partition.idempotency("k", producer: "p", user: "u"),
                ].map { RedisKeySlot.slot(of: $0) }
            )
            #expect(slots.count == 1, "\(partition.stream)")
        }
        let users = (0..<400).map { "user-\($0)" }
        let counts = Dictionary(grouping: users) { keys.partition(ofUser: $0).index }.mapValues(\.count)
        #expect(counts.count == 4 && counts.values.allSatisfy { $0 > 60 }, "\(counts)")

        try await Self.withFixture(keys: keys) { fixture in
            _ = try await fixture.log.append(users.map { Self.flagged($0) } + users.map { Self.flagged($0) }, receivedAt: 0)
            let entries = try await fixture.read()
            #expect(entries.count == 800)
            #expect(entries.allSatisfy { $0.stream == keys.partition(ofUser: $0.string("user_id")!).stream })
            let outcomes = try await fixture.applier.apply(entries, now: 0).map { try $0.get() }
            #expect(outcomes.filter { $0 == .applied(["restricted:scam_messages"]) }.count == 400)
            for user in users.prefix(20) { #expect(try await fixture.applied(user) == "2") }
            // An entry in a log its user does not hash to is not applied there.
            let stray = users.first { keys.partition(ofUser: $0).index != 0 }!
            try await fixture.redis.xadd(keys.partitions[0].stream, fields: [("name", "scam_message_flagged"), ("user_id", stray), ("seq", "3")])
            guard case .malformed(let reason)? = try await fixture.applier.apply(try await fixture.read(), now: 0).first.map({ try $0.get() }) else {
                Issue.record("the stray entry was applied")
                return
            }
            #expect(reason.contains("belongs to partition"))
            #expect(try await fixture.applied(stray) == "2")
        }
    }
}
