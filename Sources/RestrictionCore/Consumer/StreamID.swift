import Logging
import ServiceLifecycle
import Shared

/// A stream id (`<ms>-<seq>`) ordered as Redis orders them.
struct StreamID: Comparable {
    let milliseconds: UInt64
    let sequence: UInt64

    init(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1)
        milliseconds = parts.first.flatMap { UInt64($0) } ?? 0
        sequence = parts.count > 1 ? UInt64(parts[1]) ?? 0 : 0
    }

    static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
