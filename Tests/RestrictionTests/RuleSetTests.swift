import Foundation
import Shared
import Testing

@testable import RestrictionCore

/// The rules file's form (`RESTRICTIONS_RULES_FILE`, `GET /rules`) and the event catalog's
/// validation, as pure logic.
@Suite("Rule sets and event validation")
struct RuleSetTests {
    static let custom: JSONValue = [
        "events": [["name": "login_failed", "fields": ["country": "text"]], ["name": "refund", "fields": ["amount": "amount"]]],
        "metrics": [
            ["name": "failures", "event": "login_failed", "kind": "count"],
            ["name": "countries", "event": "login_failed", "kind": "distinct", "field": "country"],
            ["name": "refunded", "event": "refund", "kind": "sum", "field": "amount"],
        ],
        "rules": [
            [
                "name": "spread_logins", "description": "Failures from many countries", "clears": "can_login",
                "when": [["metric": "failures", "op": ">=", "value": 3], ["metric": "countries", "per": "failures", "op": ">", "value": 0.5]],
            ]
        ],
    ]

    @Test func aRulesFileReadsBackAsItWasWritten() throws {
        let rules = try RuleSet(json: Self.custom)
        #expect(rules.events.map(\.name) == ["login_failed", "refund"])
        #expect(rules.rules.map(\.clears) == ["can_login"])
        #expect(rules.rules(affectedBy: "login_failed").map(\.name) == ["spread_logins"])
        #expect(rules.rules(affectedBy: "refund").isEmpty)
        // The same document again from what `GET /rules` shows.
        let again = try RuleSet(json: rules.json)
        #expect(again.json == rules.json)
        // The defaults survive the round trip too.
        #expect(try RuleSet(json: RuleSet.defaults.json).json == RuleSet.defaults.json)
    }

    @Test(arguments: [
        ("events", #"{"metrics": [], "rules": []}"#),
        ("kind is count, sum or distinct", #"{"events": [{"name": "e"}], "metrics": [{"name": "m", "event": "e", "kind": "avg"}], "rules": []}"#),
        ("no event 'x'", #"{"events": [{"name": "e"}], "metrics": [{"name": "m", "event": "x", "kind": "count"}], "rules": []}"#),
        ("has no amount field", #"{"events": [{"name": "e"}], "metrics": [{"name": "m", "event": "e", "kind": "sum", "field": "a"}], "rules": []}"#),
        ("names are lower-case", #"{"events": [{"name": "Bad-Name"}], "metrics": [], "rules": []}"#),
        ("defined twice", #"{"events": [{"name": "e"}, {"name": "e"}], "metrics": [], "rules": []}"#),
        ("user_id is implicit", #"{"events": [{"name": "e", "fields": {"user_id": "text"}}], "metrics": [], "rules": []}"#),
        (
            "op is one of",
            #"{"events": [{"name": "e"}], "metrics": [{"name": "m", "event": "e", "kind": "count"}], "rules": [{"name": "r", "clears": "x", "when": [{"metric": "m", "op": "==", "value": 1}]}]}"#
        ),
        ("type is \"text\" or \"amount\"", #"{"events": [{"name": "e", "fields": {"f": "date"}}], "metrics": [], "rules": []}"#),
    ])
    func aBadRulesFileIsRefusedSayingWhy(_ expected: String, _ text: String) throws {
        let json = try JSONValue.parse(Data(text.utf8))
        do {
            _ = try RuleSet(json: json)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    static func event(_ text: String, header: String? = nil) throws(ProblemDetails) -> IncomingEvent {
        try IncomingEvent(json: try! JSONValue.parse(Data(text.utf8)), headerKey: header, rules: .defaults)
    }

    @Test func eventsAreValidatedAgainstTheCatalog() throws {
        let card = try Self.event(
            #"{"name": "credit_card_added", "event_properties": {"user_id": 42, "card_id": "c", "zip_code": 10115, "extra": [1]}}"#
        )
        #expect(card.userID == "42")
        #expect(card.fields.map(\.0) == ["card_id", "zip_code"] && card.fields.map(\.1) == ["c", "10115"], "undeclared properties are dropped")
        #expect(try Self.event(#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": 12.50}}"#).fields[0].1 == "12.5")

        for (body, field) in [
            ("[]", ""),
            (#"{"event_properties": {"user_id": "u"}}"#, "name"),
            (#"{"name": "nope", "event_properties": {"user_id": "u"}}"#, "name"),
            (#"{"name": "scam_message_flagged"}"#, "event_properties"),
            (#"{"name": "scam_message_flagged", "event_properties": {}}"#, "event_properties.user_id"),
            (#"{"name": "scam_message_flagged", "event_properties": {"user_id": ""}}"#, "event_properties.user_id"),
            (
                "{\"name\": \"scam_message_flagged\", \"event_properties\": {\"user_id\": \"\(String(repeating: "u", count: 257))\"}}",
                "event_properties.user_id"
            ),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": -1}}"#, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": "5"}}"#, "event_properties.amount"),
            (#"{"name": "purchase_made", "event_properties": {"user_id": "u", "amount": Infinity}}"#, "event_properties.amount"),
            (#"{"name": "scam_message_flagged", "event_properties": {"user_id": "u"}, "event_id": ""}"#, "event_id"),
        ] {
            do {
                _ = try Self.event(body)
                Issue.record("accepted: \(body)")
            } catch {
                #expect(error.extensions["field"] == .string(field), "\(body): \(error)")
            }
        }
        let unknown = #"{"name": "nope", "event_properties": {"user_id": "u"}}"#
        #expect(throws: ProblemDetails.self) { try Self.event(unknown) }
        do { _ = try Self.event(unknown) } catch {
            guard case .array(let known)? = error.extensions["known_events"] else {
                Issue.record("no known_events: \(error)")
                return
            }
            #expect(known.contains("purchase_made") && known.count == 4)
        }

        // The header and the body's id must agree; either alone is the key.
        let flagged = #"{"name": "scam_message_flagged", "event_properties": {"user_id": "u"}, "event_id": "a"}"#
        #expect(try Self.event(flagged, header: "a").idempotencyKey == "a")
        #expect(try Self.event(#"{"name": "scam_message_flagged", "event_properties": {"user_id": "u"}}"#, header: "h").idempotencyKey == "h")
        #expect(throws: ProblemDetails.self) { try Self.event(flagged, header: "b") }
    }
}
