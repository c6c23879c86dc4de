/// A multi-key call whose keys hash to different cluster slots, refused before it is sent.
///
/// A cluster would answer `CROSSSLOT` without saying which keys; this names them, so the key
/// layout that produced them can be fixed (give them one `{hash tag}`).
public struct RedisCrossSlotError: Error, CustomStringConvertible, Sendable, Equatable {
    public let command: String
    public let keys: [String]

    public init(command: String, keys: [String]) {
        self.command = command
        self.keys = keys
    }

    public var description: String {
        let slots = keys.map { "\($0) (slot \(RedisKeySlot.slot(of: $0)))" }
        return "redis cluster: \(command) keys span slots: \(slots.joined(separator: ", "))"
    }
}
