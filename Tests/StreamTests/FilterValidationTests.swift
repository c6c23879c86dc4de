import Foundation
import Shared
import Testing

@testable import StreamCore

/// A filter or an event that is not right is refused with the field it is about.
@Suite("Filter and event validation")
struct FilterValidationTests {
    static func field(_ body: String, event: Bool = false) -> String? {
        do {
            let json = try JSONValue.parse(Data(body.utf8))
            if event { _ = try StreamEvent(json: json, now: Date()) } else { _ = try SubscriberFilter(json: json) }
            return "accepted"
        } catch let error as JSONFieldError {
            return error.field
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        (#"{"event_types": ["purchase"]}"#, "subscriber_id"),
        (#"{"subscriber_id": "a b"}"#, "subscriber_id"),
        (#"{"subscriber_id": ""}"#, "subscriber_id"),
        (#"{"subscriber_id": "u", "min_amount": -1}"#, "min_amount"),
        (#"{"subscriber_id": "u", "min_amount": "100"}"#, "min_amount"),
        (#"{"subscriber_id": "u", "min_amount": NaN}"#, "min_amount"),
        (#"{"subscriber_id": "u", "event_types": "purchase"}"#, "event_types"),
        (#"{"subscriber_id": "u", "event_types": [1]}"#, "event_types[0]"),
        (#"{"subscriber_id": "u", "user_tiers": ["ok", "not ok"]}"#, "user_tiers[1]"),
        (#"{"subscriber_id": "u", "colour": "red"}"#, "colour"),
        (#"{"subscriber_id": "u", "conditions": {"field": "nope", "op": "eq", "value": 1}}"#, "conditions.field"),
        (#"{"subscriber_id": "u", "conditions": {"field": "amount", "op": "like", "value": 1}}"#, "conditions.op"),
        (#"{"subscriber_id": "u", "conditions": {"field": "amount", "op": "gt", "value": "x"}}"#, "conditions.value"),
        (#"{"subscriber_id": "u", "conditions": {"field": "amount", "op": "in", "value": 1}}"#, "conditions.value"),
        (#"{"subscriber_id": "u", "conditions": {"and": [{"field": "amount", "op": "exists"}, {"or": []}]}}"#, "conditions.and[1].or"),
        (#"{"subscriber_id": "u", "conditions": {"not": {"field": "properties.x", "op": "eq", "value": {"a": 1}}}}"#, "conditions.not.value"),
        (#"{"subscriber_id": "u", "conditions": {"field": "properties.", "op": "exists"}}"#, "conditions.field"),
        (#"{"subscriber_id": "user_1", "event_types": ["purchase"], "user_tiers": ["premium"], "min_amount": 100}"#, "accepted"),
    ])
    func filtersNameTheBadField(body: String, field: String) {
        #expect(Self.field(body) == field)
    }

    @Test func listsAndTreesAreBounded() {
        let many = (0..<10_000).map { "\"t\($0)\"" }.joined(separator: ",")
        #expect(Self.field(#"{"subscriber_id": "u", "event_types": [\#(many)]}"#) == "event_types")
        #expect(Self.field(#"{"subscriber_id": "u", "conditions": {"field": "amount", "op": "in", "values": [\#(many)]}}"#) == "conditions.values")
        var deep = #"{"field": "amount", "op": "exists"}"#
        for _ in 0..<10 { deep = #"{"not": \#(deep)}"# }
        #expect(Self.field(#"{"subscriber_id": "u", "conditions": \#(deep)}"#)?.hasPrefix("conditions.not") == true)
        let wide = (0..<300).map { _ in #"{"field": "amount", "op": "exists"}"# }.joined(separator: ",")
        #expect(Self.field(#"{"subscriber_id": "u", "conditions": {"or": [\#(wide)]}}"#)?.hasPrefix("conditions.or") == true)
    }

    @Test(arguments: [
        (#"{"user_id": "u", "user_tier": "basic"}"#, "event_type"),
        (#"{"event_type": "buy", "user_tier": "basic"}"#, "user_id"),
        (#"{"event_type": "buy", "user_id": "u"}"#, "user_tier"),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "amount": "12"}"#, "amount"),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "timestamp": "yesterday"}"#, "timestamp"),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "event_id": "a b"}"#, "event_id"),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "properties": []}"#, "properties"),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "extra": 1}"#, "extra"),
        (
            #"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "properties": {"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}}"#,
            "properties.a.b.c.d.e.f.g.h"
        ),
        (#"{"event_type": "buy", "user_id": "u", "user_tier": "basic", "amount": 5, "properties": {"k": [1, {"x": 2}]}}"#, "accepted"),
    ])
    func eventsNameTheBadField(body: String, field: String) {
        #expect(Self.field(body, event: true) == field)
    }

    @Test func anEventIsWrittenOnceWithItsTimestamp() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let event = try StreamEvent(json: ["event_type": "buy", "user_id": "u", "user_tier": "basic", "amount": 12.5], now: now)
        #expect(
            event.jsonText
                == #"{"amount":12.5,"event_type":"buy","properties":{},"timestamp":"2023-11-14T22:13:20.000Z","user_id":"u","user_tier":"basic"}"#
        )
        let back = try #require(StreamEvent(logged: try JSONValue.parse(Data(event.jsonText.utf8))))
        #expect(back == event, "the log reads back what was written")
    }
}
