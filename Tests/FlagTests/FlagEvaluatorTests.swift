import Foundation
import Shared
import Testing

@testable import FlagCore

@Suite("Flag evaluation")
struct FlagEvaluatorTests {
    typealias F = Fixtures

    @Test func legacyRuleEnabledIffStatusAndBucketBelowRollout() throws {
        for vector in BucketingTests.vectors where !vector.user.isEmpty {
            for rollout in [0.0, 1, 50, vector.bucket == 99 ? 99 : Double(vector.bucket + 1), Double(vector.bucket), 100] {
                for status in [true, false] {
                    let snapshot = try F.snapshot(flags: [
                        ["flag_name": .string(vector.flag), "status": .bool(status), "rollout_percentage": .number(rollout)]
                    ])
                    let result = try F.evaluate(vector.flag, in: snapshot, key: vector.user)
                    #expect(result.enabled == (status && Double(vector.bucket) < rollout), "\(vector) at \(rollout)")
                }
            }
        }
    }

    @Test func reasons() throws {
        let snapshot = try F.snapshot(flags: [
            ["flag_name": "static"],
            ["flag_name": "split", "rollout_percentage": 50],
            ["flag_name": "off", "status": false],
            ["flag_name": "ruled", "rules": [F.rule("country", "in", ["DE"])]],
        ])
        #expect(try F.evaluate("static", in: snapshot).reason == .staticValue)
        #expect(try F.evaluate("split", in: snapshot).reason == .split)
        #expect(try F.evaluate("off", in: snapshot).reason == .disabled)
        #expect(try F.evaluate("ruled", in: snapshot, ["country": "DE"]).reason == .targetingMatch)
        #expect(try F.evaluate("ruled", in: snapshot, ["country": "FR"]).reason == .defaultValue)
        #expect(throws: EvaluationError.flagNotFound("nope")) { try F.evaluate("nope", in: snapshot) }
    }

    @Test func theTargetingKeyIsNeededOnlyForASplit() throws {
        let snapshot = try F.snapshot(flags: [["flag_name": "all"], ["flag_name": "half", "rollout_percentage": 50]])
        #expect(try F.evaluate("all", in: snapshot, key: nil).enabled)
        #expect(throws: EvaluationError.targetingKeyMissing("half")) { try F.evaluate("half", in: snapshot, key: nil) }
    }

    /// Each operator: an attribute that matches, one that does not, and a missing one.
    @Test(arguments: [
        ("in", ["DE", "FR"] as [JSONValue], "FR" as JSONValue, "IT" as JSONValue),
        ("not_in", ["DE"], "FR", "DE"),
        ("eq", ["pro"], "pro", "free"),
        ("eq", [5], "5", "6"),
        ("neq", ["pro"], "free", "pro"),
        ("starts_with", ["abc", "x"], "xyz", "yxz"),
        ("ends_with", ["@corp.com"], "ann@corp.com", "ann@corp.co"),
        ("contains", ["beta"], "is-beta-user", "bet"),
        ("gt", [10], 10.5, 10),
        ("gte", [10], "10", 9.99),
        ("lt", [10], -1, 10),
        ("lte", [10], 10, 10.01),
        ("semver_gt", ["1.4.0"], "1.10.0", "1.4.0"),
        ("semver_lt", ["2.0.0"], "2.0.0-rc.1", "2.0.0"),
        ("before", ["2026-06-01T00:00:00Z"], "2026-05-31T23:59:59Z", "2026-06-01T00:00:01+00:00"),
        ("after", ["2026-06-01T00:00:00Z"], 1_790_000_000, "2026-01-01"),
        ("in", [true], true, false),
    ])
    func operators(_ op: String, _ values: [JSONValue], _ matching: JSONValue, _ other: JSONValue) throws {
        let snapshot = try F.snapshot(flags: [["flag_name": "f", "rollout_percentage": 0, "rules": [F.rule("a", op, .init(values))]]])
        #expect(try F.evaluate("f", in: snapshot, ["a": matching]).enabled, "\(op) \(values) should match \(matching)")
        #expect(try !F.evaluate("f", in: snapshot, ["a": other]).enabled, "\(op) \(values) should not match \(other)")
        #expect(try !F.evaluate("f", in: snapshot, ["b": matching]).enabled, "a missing attribute never matches")
    }

    @Test func rulesApplyInOrderAndServeWhatTheySay() throws {
        let snapshot = try F.snapshot(flags: [
            [
                "flag_name": "f", "rollout_percentage": 100,
                "variants": [["name": "blue", "value": "#00f", "weight": 1], ["name": "red", "value": "#f00", "weight": 1]],
                "rules": [
                    F.rule("plan", "eq", ["banned"], serve: ["enabled": false]),
                    F.rule("country", "eq", ["DE"], serve: ["variant": "red"]),
                    F.rule("country", "in", ["DE", "FR"], serve: ["variant": "blue"]),
                    F.rule("country", "eq", ["NL"], serve: ["rollout_percentage": 0]),
                ],
            ]
        ])
        let banned = try F.evaluate("f", in: snapshot, ["plan": "banned", "country": "DE"])
        #expect(!banned.enabled && banned.cause == "rule:0" && banned.value == nil)
        let german = try F.evaluate("f", in: snapshot, ["country": "DE"])
        #expect(german.variant == "red" && german.value == "#f00" && german.reason == .targetingMatch)
        #expect(try F.evaluate("f", in: snapshot, ["country": "FR"]).variant == "blue")
        #expect(try !F.evaluate("f", in: snapshot, ["country": "NL"]).enabled)
        #expect(try F.evaluate("f", in: snapshot, ["country": "US"]).reason == .split)
        // The user id is an attribute too.
        let byUser = try F.snapshot(flags: [["flag_name": "g", "rollout_percentage": 0, "rules": [F.rule("user_id", "in", ["vip"])]]])
        #expect(try F.evaluate("g", in: byUser, key: "vip").enabled)
        #expect(try !F.evaluate("g", in: byUser, key: "other").enabled)
    }

    @Test func segments() throws {
        let snapshot = try F.snapshot(
            flags: [
                [
                    "flag_name": "f", "rollout_percentage": 0,
                    "rules": [["conditions": [["operator": "in_segment", "values": ["staff"]]], "serve": ["enabled": true]]],
                ],
                ["flag_name": "g", "rules": [["conditions": [["operator": "not_in_segment", "values": ["staff"]]], "serve": ["enabled": false]]]],
            ],
            segments: [
                [
                    "segment_name": "staff", "included": ["contractor"], "excluded": ["intern"],
                    "conditions": [["attribute": "email", "operator": "ends_with", "values": ["@corp.com"]]],
                ]
            ]
        )
        #expect(try F.evaluate("f", in: snapshot, key: "ann", ["email": "ann@corp.com"]).enabled)
        #expect(try F.evaluate("f", in: snapshot, key: "contractor").enabled)
        #expect(try !F.evaluate("f", in: snapshot, key: "intern", ["email": "intern@corp.com"]).enabled)
        #expect(try !F.evaluate("f", in: snapshot, key: "bob", ["email": "bob@else.com"]).enabled)
        #expect(try !F.evaluate("g", in: snapshot, key: "bob").enabled)
        #expect(try F.evaluate("g", in: snapshot, key: "contractor").enabled)

        // A segment deleted later matches no one.
        let (withoutSegment, _) = snapshot.applying([F.change(.segment, "staff", 100, nil)], logger: nil)
        #expect(try !F.evaluate("f", in: withoutSegment, key: "contractor").enabled)
    }

    @Test func prerequisites() throws {
        let snapshot = try F.snapshot(flags: [
            ["flag_name": "base", "rollout_percentage": 0, "rules": [F.rule("plan", "eq", ["pro"])]],
            ["flag_name": "colour", "variants": [["name": "red", "value": 1], ["name": "blue", "value": 2, "weight": 0]]],
            ["flag_name": "child", "prerequisites": [["flag_name": "base"]]],
            ["flag_name": "needs_blue", "prerequisites": [["flag_name": "colour", "variant": "blue"]]],
            ["flag_name": "grandchild", "prerequisites": [["flag_name": "child"]]],
        ])
        #expect(try F.evaluate("child", in: snapshot, ["plan": "pro"]).enabled)
        let off = try F.evaluate("child", in: snapshot, ["plan": "free"])
        #expect(!off.enabled && off.reason == .disabled && off.cause == "prerequisite:base")
        #expect(try F.evaluate("grandchild", in: snapshot, ["plan": "pro"]).enabled)
        #expect(try !F.evaluate("grandchild", in: snapshot, ["plan": "free"]).enabled)
        #expect(try !F.evaluate("needs_blue", in: snapshot).enabled)

        let cycle = try FlagDefinition(json: ["flag_name": "base", "prerequisites": [["flag_name": "grandchild"]]])
        #expect(snapshot.closesPrerequisiteCycle(cycle))
        #expect(!snapshot.closesPrerequisiteCycle(try FlagDefinition(json: ["flag_name": "new", "prerequisites": [["flag_name": "grandchild"]]])))
    }

    @Test func scheduleAndKillSwitch() throws {
        let start = Timestamp.parse("2026-06-01T00:00:00Z")!
        let end = Timestamp.parse("2026-07-01T00:00:00Z")!
        let snapshot = try F.snapshot(flags: [
            ["flag_name": "s", "enable_at": "2026-06-01T00:00:00Z", "disable_at": "2026-07-01T00:00:00Z"],
            ["flag_name": "k", "killed": true, "rules": [F.rule("a", "eq", ["x"])]],
        ])
        #expect(try !F.evaluate("s", in: snapshot, now: start.addingTimeInterval(-0.001)).enabled)
        #expect(try F.evaluate("s", in: snapshot, now: start).enabled)
        #expect(try F.evaluate("s", in: snapshot, now: end.addingTimeInterval(-0.001)).enabled)
        let ended = try F.evaluate("s", in: snapshot, now: end)
        #expect(!ended.enabled && ended.cause == "schedule")
        let killed = try F.evaluate("k", in: snapshot, ["a": "x"])
        #expect(!killed.enabled && killed.cause == "killed" && killed.reason == .disabled)
    }

    @Test func offServesTheOffVariantOrNoValue() throws {
        let snapshot = try F.snapshot(flags: [
            [
                "flag_name": "a", "status": false, "variants": [["name": "x", "value": "X"], ["name": "ctl", "value": "C", "weight": 0]],
                "off_variant": "ctl",
            ],
            ["flag_name": "b", "status": false, "variants": [["name": "x", "value": "X"]]],
            ["flag_name": "c", "status": false],
        ])
        let a = try F.evaluate("a", in: snapshot)
        #expect(a.variant == "ctl" && a.value == "C" && !a.enabled)
        let b = try F.evaluate("b", in: snapshot)
        #expect(b.variant == "off" && b.value == nil)
        #expect(try F.evaluate("c", in: snapshot).value == false)
    }

    static func assignments(_ weights: [String: Double], users: Int) throws -> [String: String] {
        let variants = JSONValue.array(
            weights.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "value": .string($0.key), "weight": .number($0.value)] }
        )
        let snapshot = try F.snapshot(flags: [["flag_name": "mv", "variants": variants]])
        var result: [String: String] = [:]
        for index in 0..<users {
            let user = "u\(index)"
            result[user] = try F.evaluate("mv", in: snapshot, key: user).variant
        }
        return result
    }

    @Test func variantsFollowTheirWeights() throws {
        let users = 20_000
        let assigned = try Self.assignments(["a": 50, "b": 30, "c": 20], users: users)
        let counts = Dictionary(grouping: assigned.values, by: { $0 }).mapValues(\.count)
        for (variant, share) in ["a": 0.5, "b": 0.3, "c": 0.2] {
            #expect(abs(Double(counts[variant] ?? 0) / Double(users) - share) < 0.02, "\(variant): \(counts)")
        }
    }

    @Test func changingOneWeightMovesUsersOnlyToOrFromThatVariant() throws {
        let before = try Self.assignments(["a": 50, "b": 30, "c": 20], users: 10_000)
        let grown = try Self.assignments(["a": 50, "b": 30, "c": 40], users: 10_000)
        let shrunk = try Self.assignments(["a": 50, "b": 30, "c": 5], users: 10_000)
        var moved = 0
        for (user, old) in before {
            if grown[user] != old {
                moved += 1
                #expect(grown[user] == "c", "\(user) moved \(old) → \(grown[user]!) though only c grew")
            }
            if shrunk[user] != old { #expect(old == "c", "\(user) left \(old) though only c shrank") }
        }
        // c's share goes from 20% to 40/120 = 33%: about 13% of users move, all to c.
        #expect(moved > 1000 && moved < 1700)
    }

    @Test func snapshotsKeepTheNewestVersionWhateverTheOrder() throws {
        let v1 = F.change(.flag, "f", 1, try FlagDefinition(json: ["flag_name": "f", "rollout_percentage": 10]).json)
        let v2 = F.change(.flag, "f", 2, try FlagDefinition(json: ["flag_name": "f", "rollout_percentage": 20]).json)
        let deleted = F.change(.flag, "f", 3, nil)
        let (afterDelete, applied) = FlagSnapshot.empty.applying([v2, deleted, v1], logger: nil)
        #expect(applied.map(\.version) == [1, 2, 3])
        #expect(afterDelete.flagDefinitions["f"] == nil && afterDelete.revision == 3)
        // A late message or an older full load cannot bring it back.
        let (late, lateApplied) = afterDelete.applying([v2], logger: nil)
        #expect(lateApplied.isEmpty && late.flagDefinitions["f"] == nil)
        let recreated = F.change(.flag, "f", 4, try FlagDefinition(json: ["flag_name": "f"]).json)
        #expect(afterDelete.applying([recreated], logger: nil).0.flagDefinitions["f"]?.rolloutPercentage == 100)
    }
}
