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
        var text = String(text)
        guard let id = text.withUTF8({ RedisStreamID(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }

    /// The same from the id's UTF-8 bytes, as a reply or a pub/sub message carries them: a
    /// scan of the digits, nothing allocated (ids are read per delivered message).
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        var parts: (UInt64, UInt64) = (0, 0)
        var digits = 0
        var inSequence = false
        for byte in bytes {
            if byte == UInt8(ascii: "-") {
                guard !inSequence, digits > 0 else { return nil }
                inSequence = true
                digits = 0
                continue
            }
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let next = (inSequence ? parts.1 : parts.0).multipliedReportingOverflow(by: 10)
            let sum = next.partialValue.addingReportingOverflow(UInt64(byte - 0x30))
            guard !next.overflow, !sum.overflow else { return nil }
            if inSequence { parts.1 = sum.partialValue } else { parts.0 = sum.partialValue }
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.init(milliseconds: parts.0, sequence: parts.1)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: RedisStreamID, rhs: RedisStreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
