import Foundation
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

/// Tripwires on the real scripts, with time from a test clock, on a Redis of the test's own:
/// `tripwire.<rule>` is not prefixed, and alerts from anyone else must not count.
@Suite("Tripwires", .teardown)
struct TripwireTests {
    @Test func theRuleFromTheDesign() {
        let tripwire = TripwireConfiguration(window: .seconds(300), ratio: 0.05, minimumUsers: 3)
        #expect(!tripwire.trips(count: 3, known: 60), "3 is 5% of 60, not above it")
        #expect(tripwire.trips(count: 4, known: 60))
        #expect(!tripwire.trips(count: 2, known: 10), "above 5% but under the minimum")
        #expect(tripwire.trips(count: 3, known: 10))
    }

    /// With several partitions the wire counts over all of them: each partition's script sees
    /// the others' figures as of the last rearm round, which runs after every step here as the
    /// consumer runs it every second, so the figures and outcomes are those of one partition.
    @Test(arguments: [1, 4])
    func tripsAtTheThresholdHoldsNewUsersRearmsAndResets(partitions: Int) async throws {
        let server = try await PrivateRedis.start()
        let alerts = try await ChannelListener(redisURL: server.url, channels: ["tripwire.scam_messages"])
        afterTest {
            await alerts.stop()
            try? await server.stop()
        }
        try await withRedis(server) { redis in
            let keys = RestrictionKeys(prefix: TestEnvironment.unique("tripwire"), partitions: partitions, tagged: TestEnvironment.isRedisClusterRun)
            let clock = TestClock()
            let time = WallTime(clock, origin: Date(timeIntervalSince1970: 1_800_000_000))
            let applier = EventApplier(
                redis: redis,
                keys: keys,
                group: "g",
                rules: .defaults,
                tripwire: TripwireConfiguration(window: .seconds(300), ratio: 0.05, minimumUsers: 3)
            )
            let reader = RestrictionReader(redis: redis, applier: applier)
            let log = EventLog(redis: redis, keys: keys, configuration: .init())
            for partition in keys.partitions { try await redis.xgroupCreate(partition.stream, group: "g") }

            func run(_ events: [IncomingEvent]) async throws -> [EventApplier.Outcome] {
                _ = try await log.append(events, receivedAt: time.milliseconds)
                let entries = try await redis.xreadgroup(
                    group: "g",
                    consumer: "test",
                    streams: keys.partitions.map { ($0.stream, ">") },
                    count: 10_000
                )
                let outcomes = try await applier.apply(entries, now: time.milliseconds).map { try $0.get() }
                if partitions > 1 {
                    let rearmed = try await applier.rearm(now: time.milliseconds)
                    #expect(rearmed.isEmpty, "a round between steps re-armed \(rearmed)")
                }
                return outcomes
            }
            func flagTwice(_ user: String) async throws -> [String] {
                let outcomes = try await run([
                    IncomingEvent(name: "scam_message_flagged", userID: user), IncomingEvent(name: "scam_message_flagged", userID: user),
                ])
                guard case .applied(let rules) = outcomes.last else { return ["not applied: \(outcomes)"] }
                return rules
            }
            func state() async throws -> RestrictionReader.RuleState {
                try await reader.rules(now: time.milliseconds).first { $0.rule.name == "scam_messages" }!
            }
            /// The next alert, after those already seen, is `state` (by `by`) for this rule.
            func alert(_ state: String, _ by: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
                guard let json = await alerts.next(sourceLocation: sourceLocation, { _ in true }) else { return false }
                let matches =
                    json["rule"] == "scam_messages" && json["state"] == .string(state) && (by == nil || json["by"] == by.map(JSONValue.string))
                #expect(matches, "\(json)", sourceLocation: sourceLocation)
                return matches
            }

            // 60 known users: 5% is 3. The rule may restrict 3 users in 300 s; the 4th trips it.
            _ = try await run((0..<60).map { IncomingEvent(name: "purchase_made", userID: "u\($0)", fields: [("amount", "10")]) })
            for user in ["u0", "u1", "u2"] {
                #expect(try await flagTwice(user) == ["restricted:scam_messages"], "\(user)")
                clock.advance(by: .seconds(1))
            }
            #expect(try await state().tripped == false, "at the threshold, not above it")
            #expect(try await flagTwice("u3") == ["tripped:scam_messages", "held:scam_messages"])
            #expect(await alert("tripped"))
            var rule = try await state()
            #expect(rule.tripped && rule.trips == 1 && rule.windowUsers == 4 && rule.knownUsers == 60)

            // Tripped: new users are held, not restricted; earlier restrictions stay.
            #expect(try await flagTwice("u4") == ["held:scam_messages"])
            #expect(try await reader.has("can_message", user: "u3"))
            #expect(try await reader.has("can_message", user: "u4"))
            #expect(try await !reader.has("can_message", user: "u0"))
            #expect(try await reader.user("u4").held.map(\.rule) == ["scam_messages"])

            // Re-arms only once the window has let enough users go.
            clock.advance(by: .seconds(296))
            #expect(try await applier.rearm(now: time.milliseconds).isEmpty, "u1…u4 are still in the window")
            clock.advance(by: .seconds(5))
            #expect(try await applier.rearm(now: time.milliseconds) == ["scam_messages"])
            #expect(await alert("armed", "rate"))
            rule = try await state()
            #expect(!rule.tripped && rule.held == 2 && rule.restricted == 3)
            #expect(try await flagTwice("u5") == ["restricted:scam_messages"])

            // Trips again; an operator's reset re-arms it at once.
            for user in ["u6", "u7"] { #expect(try await flagTwice(user) == ["restricted:scam_messages"]) }
            #expect(try await flagTwice("u8") == ["tripped:scam_messages", "held:scam_messages"])
            #expect(await alert("tripped"))
            #expect(try await applier.reset(rule: "scam_messages", now: time.milliseconds))
            #expect(await alert("armed", "reset"))
            #expect(try await state().tripped == false)
            #expect(try await flagTwice("u9") == ["restricted:scam_messages"])
            #expect(try await state().trips == 2)
        }
    }
}
