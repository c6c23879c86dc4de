import Foundation
import Shared
import TestSupport
import Testing

@testable import StreamCore

/// Matching: what each part of a filter means, and that the index finds exactly what
/// checking every filter finds.
@Suite("Filter matching")
struct FilterMatchingTests {
    static func event(
        _ type: String = "purchase",
        tier: String = "premium",
        amount: Double? = 150,
        properties: [String: JSONValue] = [:]
    ) throws -> StreamEvent {
        var json: [String: JSONValue] = ["event_type": .string(type), "user_id": "u1", "user_tier": .string(tier), "properties": .object(properties)]
        if let amount { json["amount"] = .number(amount) }
        return try StreamEvent(json: .object(json), now: Date())
    }

    static func filter(_ json: JSONValue) throws -> CompiledFilter {
        guard case .object(var object) = json else { throw JSONFieldError(field: nil, "not an object") }
        object["subscriber_id"] = "s"
        return CompiledFilter(try SubscriberFilter(json: .object(object)))
    }

    @Test func theOlderFieldsMeanWhatTheySay() throws {
        let readme = try Self.filter(["event_types": ["purchase"], "user_tiers": ["premium"], "min_amount": 100])
        #expect(readme.matches(try Self.event()))
        #expect(readme.matches(try Self.event(amount: 100)), "min_amount is inclusive")
        #expect(!readme.matches(try Self.event(amount: 99.99)))
        #expect(!readme.matches(try Self.event(amount: nil)), "an event without an amount fails a min_amount")
        #expect(!readme.matches(try Self.event("view")))
        #expect(!readme.matches(try Self.event(tier: "basic")))
        let any = try Self.filter(["event_types": [], "user_tiers": .null])
        #expect(any.matches(try Self.event("anything", tier: "whatever", amount: nil)), "empty or missing lists mean any")
    }

    @Test(arguments: [
        // (condition, properties, holds)
        (#"{"field": "properties.region", "op": "eq", "value": "EU"}"#, #"{"region": "EU"}"#, true),
        (#"{"field": "properties.region", "op": "eq", "value": "EU"}"#, #"{"region": "US"}"#, false),
        (#"{"field": "properties.region", "op": "neq", "value": "EU"}"#, #"{"region": "US"}"#, true),
        (#"{"field": "properties.region", "op": "neq", "value": "EU"}"#, #"{}"#, false),
        (#"{"field": "properties.region", "op": "in", "values": ["EU", "UK"]}"#, #"{"region": "UK"}"#, true),
        (#"{"field": "properties.region", "op": "not_in", "values": ["EU", "UK"]}"#, #"{"region": "UK"}"#, false),
        (#"{"field": "properties.region", "op": "not_in", "values": ["EU"]}"#, #"{}"#, false),
        (#"{"field": "properties.cart.total", "op": "gt", "value": 10}"#, #"{"cart": {"total": 10.5}}"#, true),
        (#"{"field": "properties.cart.total", "op": "gt", "value": 10}"#, #"{"cart": {"total": 10}}"#, false),
        (#"{"field": "properties.cart.total", "op": "gte", "value": 10}"#, #"{"cart": {"total": 10}}"#, true),
        (#"{"field": "properties.cart.total", "op": "lt", "value": 10}"#, #"{"cart": {"total": "9"}}"#, false),
        (#"{"field": "properties.cart.total", "op": "lte", "value": 10}"#, #"{"cart": {"total": 10}}"#, true),
        (#"{"field": "properties.count", "op": "eq", "value": 3}"#, #"{"count": 3.0}"#, true),
        (#"{"field": "properties.count", "op": "eq", "value": 3}"#, #"{"count": "3"}"#, false),
        (#"{"field": "properties.vip", "op": "eq", "value": true}"#, #"{"vip": true}"#, true),
        (#"{"field": "properties.tags", "op": "exists"}"#, #"{"tags": ["a"]}"#, true),
        (#"{"field": "properties.tags", "op": "exists"}"#, #"{"tags": null}"#, false),
        (#"{"field": "properties.tags", "op": "eq", "value": "a"}"#, #"{"tags": ["a"]}"#, false),
        (#"{"field": "properties.sku", "op": "starts_with", "value": "BK-"}"#, #"{"sku": "BK-12"}"#, true),
        (#"{"field": "properties.sku", "op": "starts_with", "value": "BK-"}"#, #"{"sku": 12}"#, false),
        (#"{"not": {"field": "properties.sku", "op": "exists"}}"#, #"{}"#, true),
        (#"{"and": [{"field": "amount", "op": "gte", "value": 100}, {"field": "user_tier", "op": "eq", "value": "premium"}]}"#, #"{}"#, true),
        (#"{"or": [{"field": "event_type", "op": "eq", "value": "view"}, {"field": "user_id", "op": "eq", "value": "u2"}]}"#, #"{}"#, false),
        (#"{"or": [{"field": "event_type", "op": "eq", "value": "view"}, {"field": "user_id", "op": "eq", "value": "u1"}]}"#, #"{}"#, true),
    ])
    func conditionsMeanWhatTheySay(condition: String, properties: String, holds: Bool) throws {
        let filter = try Self.filter(["conditions": try JSONValue.parse(Data(condition.utf8))])
        guard case .object(let members) = try JSONValue.parse(Data(properties.utf8)) else { throw JSONFieldError(field: nil, "bad test") }
        #expect(filter.matches(try Self.event(properties: members)) == holds)
    }

    /// Random filters of every kind against random events: the index finds exactly the
    /// filters a check of every filter finds, each once.
    @Test func theIndexFindsWhatAScanFinds() throws {
        var random = SplitMix(seed: 1402)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let types = ["purchase", "view", "refund", "signup", "login"]
        let tiers = ["premium", "basic", "free"]
        let skus = (0..<30).map { "sku\($0)" }
        var filters: [CompiledFilter] = []
        for index in 0..<3_000 {
            var json: [String: JSONValue] = ["subscriber_id": .string("s\(index)")]
            if random.next() % 2 == 0 { json["event_types"] = .array((0..<(1 + random.next() % 3)).map { _ in .string(pick(types)) }) }
            if random.next() % 2 == 0 { json["user_tiers"] = .array((0..<(1 + random.next() % 2)).map { _ in .string(pick(tiers)) }) }
            if random.next() % 3 == 0 { json["min_amount"] = .number(Double(random.next() % 300)) }
            switch random.next() % 6 {
            case 0: json["conditions"] = ["field": "properties.sku", "op": "eq", "value": .string(pick(skus))]
            case 1: json["conditions"] = ["field": "properties.sku", "op": "in", "values": [.string(pick(skus)), .string(pick(skus))]]
            case 2:
                json["conditions"] = [
                    "and": [
                        ["field": "properties.sku", "op": "in", "values": [.string(pick(skus))]],
                        ["field": "amount", "op": "lt", "value": .number(Double(random.next() % 300))],
                    ]
                ]
            case 3: json["conditions"] = ["not": ["field": "properties.sku", "op": "eq", "value": .string(pick(skus))]]
            case 4: json["conditions"] = ["or": [["field": "user_tier", "op": "eq", "value": "free"], ["field": "properties.vip", "op": "exists"]]]
            default: break
            }
            filters.append(CompiledFilter(try SubscriberFilter(json: .object(json))))
        }
        let index = FilterIndex(filters)
        var matchedSomething = 0
        for _ in 0..<2_000 {
            var properties: [String: JSONValue] = ["sku": .string(pick(skus))]
            if random.next() % 4 == 0 { properties["vip"] = true }
            let event = try Self.event(
                pick(types),
                tier: pick(tiers),
                amount: random.next() % 5 == 0 ? nil : Double(random.next() % 300),
                properties: properties
            )
            var indexed: [String] = []
            index.forEachMatch(event) { indexed.append($0.subscriberID) }
            var scanned: [String] = []
            index.forEachMatchScanning(event) { scanned.append($0.subscriberID) }
            #expect(indexed.count == Set(indexed).count, "a filter found twice")
            #expect(Set(indexed) == Set(scanned))
            if !scanned.isEmpty { matchedSomething += 1 }
        }
        #expect(matchedSomething > 1_000)
    }
}
