import Foundation
import Shared

/// Milliseconds since 1970 read from a `Clock`: the continuous clock anchored at the
/// wall-clock time of start in production, a test clock that moves only when told in tests,
/// so tripwire windows are tested exactly.
public struct WallTime: Sendable {
    private let reading: ClockReading
    private let origin: Int64

    public init<C: Clock>(_ clock: C, origin: Date = Date()) where C.Duration == Duration {
        reading = ClockReading(clock)
        self.origin = Int64((origin.timeIntervalSince1970 * 1000).rounded())
    }

    var milliseconds: Int64 {
        let elapsed = reading.now.components
        return origin + elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }
}
