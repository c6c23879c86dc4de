import Foundation

/// A DDSketch (Masson, Rim, Lee, VLDB 2019) with relative accuracy α = 1%: every quantile it
/// answers is within 1% of the true one (`|estimate − x| ≤ 0.01·|x|`).
///
/// A value x ≠ 0 falls into bin `i = ⌈ln|x| / ln γ⌉` with γ = (1+α)/(1−α), on the side of its
/// sign; bin i holds (γ^(i−1), γ^i], and answering `2γ^i/(γ+1)` for it is off by at most α.
/// Magnitudes below 10⁻⁹ count as zero. Sketches merge by adding bin counts, which is how
/// buckets roll up and how a summary adds its buckets, so a summary's cost follows the
/// number of buckets and bins, not of points.
///
/// PostgreSQL bins points with the same mapping (`analytics.sketch_index`, the same
/// `ln`, the same γ); a test holds the two to the same answers.
struct QuantileSketch: Sendable, Equatable {
    static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    static let zeroThreshold = 1e-9

    /// Bin counts of positive and of negative values, by bin index.
    private(set) var positive: [Int: Int64] = [:]
    private(set) var negative: [Int: Int64] = [:]
    private(set) var zero: Int64 = 0
    private(set) var count: Int64 = 0

    /// -1, 0 or 1: which side of the sketch `value` goes to.
    static func sign(_ value: Double) -> Int {
        abs(value) < zeroThreshold ? 0 : (value > 0 ? 1 : -1)
    }

    static func index(_ value: Double) -> Int {
        abs(value) < zeroThreshold ? 0 : Int((log(abs(value)) / logGamma).rounded(.up))
    }

    /// The value answered for bin `index` of the positive side.
    static func estimate(_ index: Int) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    mutating func add(_ value: Double) {
        add(sign: Self.sign(value), index: Self.index(value), count: 1)
    }

    mutating func add(sign: Int, index: Int, count: Int64) {
        switch sign {
        case 0: zero += count
        case 1: positive[index, default: 0] += count
        default: negative[index, default: 0] += count
        }
        self.count += count
    }

    /// Adds `other`'s counts: the sketch of both sets of points.
    mutating func merge(_ other: QuantileSketch) {
        positive.merge(other.positive, uniquingKeysWith: +)
        negative.merge(other.negative, uniquingKeysWith: +)
        zero += other.zero
        count += other.count
    }

    /// The q-quantile (0 ≤ q ≤ 1): the estimate for the value of rank ⌊q·(n−1)⌋ (from 0) in
    /// sorted order, nil when empty. Callers clamp it into the exact [min, max].
    func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int64((min(max(q, 0), 1) * Double(count - 1)).rounded(.down))
        var seen: Int64 = 0
        for index in negative.keys.sorted(by: >) {
            seen += negative[index]!
            if seen > rank { return -Self.estimate(index) }
        }
        seen += zero
        if seen > rank { return 0 }
        for index in positive.keys.sorted() {
            seen += positive[index]!
            if seen > rank { return Self.estimate(index) }
        }
        return positive.keys.max().map(Self.estimate) ?? 0
    }
}
