/// Which stored buckets answer a query: a run of buckets of one resolution (`[from, to)` of
/// their start instants) for each piece of each series slot.
///
/// A range is tiled greedily from its start with the coarsest buckets that fit and are
/// aligned: minutes up to the first whole hour, hours up to the first whole day, days, then
/// hours and minutes for the rest. One UTC day is one row; a trailing 24 hours about 140.
struct BucketPlan: Sendable, Equatable {
    struct Segment: Sendable, Equatable {
        /// The series slot this segment adds to (0 for a plain summary).
        var slot: Int
        var resolution: Resolution
        var from: Int64
        var to: Int64
    }

    private(set) var segments: [Segment] = []
    /// `[from, to)` of each slot.
    private(set) var slots: [(from: Int64, to: Int64)] = []

    static func == (lhs: BucketPlan, rhs: BucketPlan) -> Bool {
        lhs.segments == rhs.segments && lhs.slots.elementsEqual(rhs.slots, by: { $0 == $1 })
    }

    /// One slot per pair of consecutive `boundaries` (minute-aligned, increasing).
    init(boundaries: [Int64]) {
        for (slot, (from, to)) in zip(boundaries, boundaries.dropFirst()).enumerated() {
            slots.append((from, to))
            Self.tile(from: from, to: to) { segments.append(Segment(slot: slot, resolution: $0, from: $1, to: $2)) }
        }
    }

    /// Calls `take` with the runs of buckets that cover `[from, to)` exactly.
    static func tile(from: Int64, to: Int64, _ take: (Resolution, Int64, Int64) -> Void) {
        var at = from
        while at < to {
            let resolution = Resolution.allCases.reversed().first { at % $0.length == 0 && at + $0.length <= to } ?? .minute
            var end = resolution.floor(to)
            if let coarser = resolution.coarser {
                // Stop where a coarser bucket could start, if one fits from there.
                let next = coarser.floor(at) + coarser.length
                if next + coarser.length <= to { end = min(end, next) }
            }
            take(resolution, at, end)
            at = end
        }
    }
}
