/// A stream entry id (`<ms>-<seq>`), ordered as Redis orders them.
public struct RedisStreamID: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let milliseconds: UInt64
    public let sequence: UInt64

    public static let zero = RedisStreamID(milliseconds: 0, sequence: 0)

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// An id as Redis wrote it; anything unreadable reads as zero.
    public init(_ text: some StringProtocol) {
        self = RedisStreamID(parsing: text) ?? .zero
    }

    /// `<ms>-<seq>` or `<ms>` (sequence 0) in decimal digits only; nil for anything else.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, let ms = Self.number(parts[0]) else { return nil }
        let seq: UInt64
        if parts.count == 2 {
            guard let value = Self.number(parts[1]) else { return nil }
            seq = value
        } else {
            seq = 0
        }
        self.init(milliseconds: ms, sequence: seq)
    }

    private static func number(_ text: some StringProtocol) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: RedisStreamID, rhs: RedisStreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
