import Shared

/// One matched event of a subscriber: its position in the subscriber's stream, the
/// position before it (to see a gap), the log entry it came from (its produce time) and the
/// event's JSON.
struct LiveMessage: Sendable {
    /// The subscriber's entry before this one: when it is not the last one a client got,
    /// something came between (trimmed away, or missed live).
    var previous: RedisStreamID
    var id: RedisStreamID
    var source: RedisStreamID
    var event: String

    /// `<previous> <id> <source> <event JSON>`, as the route script publishes it.
    init?(published payload: [UInt8]) {
        var parts: [Substring] = []
        var rest = Substring(decoding: payload, as: UTF8.self)
        for _ in 0..<3 {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            parts.append(rest[..<space])
            rest = rest[rest.index(after: space)...]
        }
        guard let previous = RedisStreamID(parsing: parts[0]), let id = RedisStreamID(parsing: parts[1]),
            let source = RedisStreamID(parsing: parts[2])
        else { return nil }
        self.previous = previous
        self.id = id
        self.source = source
        self.event = String(rest)
    }

    /// An entry of the subscriber's stream.
    init(entry: RedisStreamEntry) {
        previous = RedisStreamID(entry.string("prev") ?? "")
        id = RedisStreamID(entry.id)
        source = RedisStreamID(entry.string("src") ?? "")
        event = entry.string("e") ?? "{}"
    }
}
