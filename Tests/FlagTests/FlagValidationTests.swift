import Foundation
import Shared
import Testing

@testable import FlagCore

@Suite("Flag validation")
struct FlagValidationTests {
    static let longName = String(repeating: "a", count: 129)

    /// A body and the field its 422 must name.
    static let rule = #"{"attribute": "a", "operator": "in", "values": ["x"]}"#

    /// A body (JSON text, so `NaN` can be written as some clients send it) and the field
    /// its 422 must name.
    @Test(arguments: [
        (#"{"flag_name": "f", "rollout_percentage": -1}"#, "rollout_percentage"),
        (#"{"flag_name": "f", "rollout_percentage": 100.5}"#, "rollout_percentage"),
        (#"{"flag_name": "f", "rollout_percentage": NaN}"#, "rollout_percentage"),
        (#"{"flag_name": "f", "rollout_percentage": Infinity}"#, "rollout_percentage"),
        (#"{"flag_name": "f", "rollout_percentage": "50"}"#, "rollout_percentage"),
        (#"{"status": true}"#, "flag_name"),
        (#"{"flag_name": "\#(longName)"}"#, "flag_name"),
        (#"{"flag_name": "has space"}"#, "flag_name"),
        (#"{"flag_name": "ünï"}"#, "flag_name"),
        (#"{"flag_name": ""}"#, "flag_name"),
        (#"{"flag_name": 7}"#, "flag_name"),
        (#"{"flag_name": "f", "status": "yes"}"#, "status"),
        (#"{"flag_name": "f", "rollout_percent": 5}"#, "rollout_percent"),
        (#"{"flag_name": "f", "variants": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]}"#, "variants"),
        (#"{"flag_name": "f", "variants": [{"name": "a"}]}"#, "variants[0].value"),
        (#"{"flag_name": "f", "variants": [{"name": "a", "value": 1, "weight": -1}]}"#, "variants[0].weight"),
        (#"{"flag_name": "f", "off_variant": "nope"}"#, "off_variant"),
        (#"{"flag_name": "f", "rules": [{"conditions": [], "serve": {"enabled": true}}]}"#, "rules[0].conditions"),
        (
            #"{"flag_name": "f", "rules": [{"conditions": [{"attribute": "a", "operator": "like", "values": ["x"]}], "serve": {"enabled": true}}]}"#,
            "rules[0].conditions[0].operator"
        ),
        (
            #"{"flag_name": "f", "rules": [{"conditions": [{"attribute": "a", "operator": "gt", "values": ["x"]}], "serve": {"enabled": true}}]}"#,
            "rules[0].conditions[0].values[0]"
        ),
        (
            #"{"flag_name": "f", "rules": [{"conditions": [{"attribute": "a", "operator": "eq", "values": [1, 2]}], "serve": {"enabled": true}}]}"#,
            "rules[0].conditions[0].values"
        ),
        (
            #"{"flag_name": "f", "rules": [{"conditions": [{"attribute": "v", "operator": "semver_gt", "values": ["one"]}], "serve": {"enabled": true}}]}"#,
            "rules[0].conditions[0].values[0]"
        ),
        (
            #"{"flag_name": "f", "rules": [{"conditions": [{"attribute": "d", "operator": "before", "values": ["tomorrow"]}], "serve": {"enabled": true}}]}"#,
            "rules[0].conditions[0].values[0]"
        ),
        (#"{"flag_name": "f", "rules": [{"conditions": [\#(rule)], "serve": {"enabled": true, "variant": "a"}}]}"#, "rules[0].serve"),
        (#"{"flag_name": "f", "rules": [{"conditions": [\#(rule)], "serve": {"variant": "zz"}}]}"#, "rules[0].serve.variant"),
        (#"{"flag_name": "f", "rules": [{"conditions": [\#(rule)], "serve": {"rollout_percentage": 101}}]}"#, "rules[0].serve.rollout_percentage"),
        (#"{"flag_name": "f", "enable_at": "2026-02-01T00:00:00Z", "disable_at": "2026-01-01T00:00:00Z"}"#, "disable_at"),
        (#"{"flag_name": "f", "enable_at": "soon"}"#, "enable_at"),
        (#"{"flag_name": "f", "prerequisites": [{"flag_name": "f"}]}"#, "prerequisites"),
        // U+0000 anywhere (PostgreSQL jsonb refuses it): in a field, a free-form value, a member name.
        (#"{"flag_name": "f", "description": "M\u0000d"}"#, "description"),
        (#"{"flag_name": "f", "variants": [{"name": "a", "value": {"k": ["x", "\u0000"]}}]}"#, "variants[0].value.k[1]"),
        (#"{"flag_name": "f", "variants": [{"name": "a", "value": {"k\u0000": 1}}]}"#, "variants[0].value.k\u{0}"),
    ])
    func namesTheField(_ text: String, _ field: String) throws {
        let body = try JSONValue.parse(Data(text.utf8))
        do {
            _ = try FlagDefinition(json: body)
            Issue.record("accepted \(body)")
        } catch let invalid as JSONFieldError {
            let problem = ProblemDetails(invalid)
            #expect(problem.status == .unprocessableContent)
            #expect(problem.extensions["field"] == .string(field), "\(problem.detail)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func segmentsRefuseNULWhereverItIs() throws {
        let body = try JSONValue.parse(Data(#"{"segment_name": "s", "included": ["a", "b\u0000"]}"#.utf8))
        do {
            _ = try SegmentDefinition(json: body)
            Issue.record("accepted \(body)")
        } catch let invalid as JSONFieldError {
            let problem = ProblemDetails(invalid)
            #expect(problem.status == .unprocessableContent && problem.extensions["field"] == "included[1]", "\(problem.detail)")
        }
    }

    @Test func notAnObjectIsMalformed() throws {
        #expect(throws: JSONFieldError.self) { try FlagDefinition(json: ["a", "b"]) }
        let invalid = try #require(throws: JSONFieldError.self) { try FlagDefinition(json: "x") }
        #expect(ProblemDetails(invalid).status == .badRequest)
    }

    @Test func defaultsAndRoundTrip() throws {
        let flag = try FlagDefinition(json: ["flag_name": "a.b:c-d_e"])
        #expect(flag.status && flag.rolloutPercentage == 100 && flag.description == "" && !flag.killed)
        #expect(try FlagDefinition(json: flag.json) == flag)
        // A definition as read (with the read-only fields) can be sent back.
        var read = flag.json
        if case .object(var members) = read {
            members["version"] = 3
            members["created_at"] = "2026-01-01T00:00:00.000Z"
            read = .object(members)
        }
        #expect(try FlagDefinition(json: read) == flag)
    }

    @Test func aNameOf128CharactersIsFine() throws {
        #expect(try FlagDefinition(json: ["flag_name": .string(String(repeating: "z", count: 128))]).name.count == 128)
    }
}
