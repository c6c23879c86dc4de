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
            try await redis.xreadgroup(group: "g", consumer: "test", streams: [(keys.stream, ">")], count: 10_000)
        }

        func applied(_ user: String) async throws -> String? {
            try await redis.send("HGET", keys.user(user), "applied").string
        }
    }

    static func withFixture(_ configuration: EventLog.Configuration = .init(), _ body: (Fixture) async throws -> Void) async throws {
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        try await withRedis(url: server.url) { redis in
            let keys = RestrictionKeys()
            let applier = EventApplier(
                redis: redis,
                keys: keys,
                group: "g",
                rules: .defaults,
                tripwire: TripwireConfiguration(window: .seconds(300), ratio: 0.05, minimumUsers: 1_000_000)
            )
            try await redis.xgroupCreate(keys.stream, group: "g")
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
            #expect(try await fixture.redis.send("HGET", fixture.keys.user("u"), "m:scam_flags").string == "3")
            #expect(try await fixture.redis.send("HGET", fixture.keys.user("v"), "m:scam_flags").string == "1")

            // Not an event at all.
            try await fixture.redis.xadd(fixture.keys.stream, fields: [("junk", "1")])
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
            #expect(try await fixture.redis.send("XLEN", fixture.keys.stream).int == 1)
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
            let key = fixture.keys.idempotency("k", producer: EventLog.anonymousProducer, user: "u")
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
            let length = try await fixture.redis.send("XLEN", fixture.keys.stream).int ?? -1
            #expect(length >= 50 && length <= 150, "\(length) of 1000 appended")
        }
    }
}
