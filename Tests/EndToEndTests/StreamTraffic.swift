import Foundation
import Shared
import TestSupport

/// Events for StreamFilter's tests: a seeded mix of the older README's kinds, each with a
/// unique `event_id` and its number in `properties.seq`, and an oracle of which of them a
/// filter must deliver, written from the filter's meaning rather than from the service's code.
enum StreamTraffic {
    static let types = ["purchase", "view", "refund", "signup"]
    static let tiers = ["premium", "basic", "free"]

    /// The older README's filter body, exactly.
    static let readmeFilter = #"{"subscriber_id": "user_1", "event_types": ["purchase"], "user_tiers": ["premium"], "min_amount": 100}"#

    /// `count` events from `users` users, numbered from `first`; one in eight has no amount.
    static func mixed(_ count: Int, first: Int = 0, users: Int = 40, seed: UInt64 = 14) -> [JSONValue] {
        var random = SplitMix(seed: seed &+ UInt64(first))
        return (first..<(first + count)).map { seq in
            var event: [String: JSONValue] = [
                "event_id": .string("e\(seed)-\(seq)"),
                "event_type": .string(types[Int(random.next() % UInt64(types.count))]),
                "user_id": .string("u\(random.next() % UInt64(users))"),
                "user_tier": .string(tiers[Int(random.next() % UInt64(tiers.count))]),
                "properties": ["seq": .number(Double(seq)), "region": random.next() % 2 == 0 ? "EU" : "US"],
            ]
            if random.next() % 8 != 0 { event["amount"] = .number(Double(random.next() % 300)) }
            return .object(event)
        }
    }

    /// The older README's filter, by its meaning: purchases by premium users of 100 or more.
    static func readmeMatches(_ event: JSONValue) -> Bool {
        event["event_type"] == "purchase" && event["user_tier"] == "premium" && (event["amount"]?.double ?? -1) >= 100
    }

    /// Numbers of events outside every mix, sent to see that delivery is live.
    static let probeSeq = 90_000_000

    /// A matching event outside every mix.
    static func probe(_ seq: Int, user: String = "probe") -> JSONValue {
        [
            "event_type": "purchase", "user_id": .string(user), "user_tier": "premium", "amount": 500,
            "properties": ["seq": .number(Double(probeSeq + seq))],
        ]
    }

    /// The events of a mix among `received` (probes left out).
    static func mixEvents(_ received: [JSONValue]) -> [JSONValue] {
        received.compactMap { $0["event"] }.filter { seq($0) < probeSeq }
    }

    static func seq(_ event: JSONValue) -> Int { Int(event["properties"]?["seq"]?.double ?? -1) }

    /// Checks what a client received against what it should: every expected event once, each
    /// user's in the order produced, positions strictly increasing. Returns the problems.
    /// Probes (``probeSeq`` and up) are left out of the comparison.
    /// - Parameter producer: which producer sent an event of this number: each producer's
    ///   events of one user keep their order.
    static func problems(received: [JSONValue], expected: [JSONValue], producer: (Int) -> Int = { _ in 0 }) -> [String] {
        var problems: [String] = []
        let events = received.compactMap { $0["event"] }.filter { seq($0) < probeSeq }
        let seqs = events.map(seq)
        if Set(seqs).count != seqs.count { problems.append("duplicates: \(seqs.count - Set(seqs).count)") }
        let want = Set(expected.map(seq))
        let missing = want.subtracting(seqs)
        let extra = Set(seqs).subtracting(want)
        if !missing.isEmpty { problems.append("missing \(missing.count): \(missing.sorted().prefix(10))") }
        if !extra.isEmpty { problems.append("not matching \(extra.count): \(extra.sorted().prefix(10))") }
        var perUser: [String: [Int]] = [:]
        for event in events { perUser["\(event["user_id"]?.stringValue ?? "")/\(producer(seq(event)))", default: []].append(seq(event)) }
        for (user, order) in perUser where order != order.sorted() { problems.append("user \(user) out of order") }
        let ids = received.compactMap { $0["id"]?.stringValue }.map { RedisStreamID($0) }
        if zip(ids, ids.dropFirst()).contains(where: { $0 >= $1 }) { problems.append("positions not increasing") }
        return problems
    }
}
