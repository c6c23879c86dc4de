/// The three sizes of stored buckets. A summary reads the coarsest that tile its range.
enum Resolution: String, Sendable, CaseIterable {
    case minute = "m"
    case hour = "h"
    case day = "d"

    /// Length in microseconds; minute, hour and day buckets start at multiples of it (UTC).
    var length: Int64 {
        switch self {
        case .minute: 60_000_000
        case .hour: 3_600_000_000
        case .day: 86_400_000_000
        }
    }

    /// The next coarser resolution.
    var coarser: Resolution? {
        switch self {
        case .minute: .hour
        case .hour: .day
        case .day: nil
        }
    }

    func floor(_ instant: Int64) -> Int64 {
        let remainder = instant % length
        return remainder < 0 ? instant - remainder - length : instant - remainder
    }
}
