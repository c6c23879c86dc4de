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

    /// `<previous> <id> <source> <event JSON>`, as the route script publishes it. Read
    /// per delivered message, so the ids are parsed from the bytes in place.
    init?(published payload: [UInt8]) {
        let parsed = payload.withUnsafeBytes { bytes -> (RedisStreamID, RedisStreamID, RedisStreamID, Int)? in
            // The id from `start` to the next space, and where the next field starts.
            func field(from start: Int) -> (RedisStreamID, Int)? {
                guard let space = bytes[start...].firstIndex(of: UInt8(ascii: " ")),
                    let id = RedisStreamID(utf8: UnsafeRawBufferPointer(rebasing: bytes[start..<space]))
                else { return nil }
                return (id, space + 1)
            }
            guard let (previous, second) = field(from: 0), let (id, third) = field(from: second), let (source, event) = field(from: third) else {
                return nil
            }
            return (previous, id, source, event)
        }
        guard let (previous, id, source, eventStart) = parsed else { return nil }
        self.previous = previous
        self.id = id
        self.source = source
        self.event = String(decoding: payload[eventStart...], as: UTF8.self)
    }

    /// An entry of the subscriber's stream.
    init(entry: RedisStreamEntry) {
        previous = RedisStreamID(entry.string("prev") ?? "")
        id = RedisStreamID(entry.id)
        source = RedisStreamID(entry.string("src") ?? "")
        event = entry.string("e") ?? "{}"
    }
}
