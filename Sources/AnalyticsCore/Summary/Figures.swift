import Shared

/// What a summary (or one slot of a series) says about its points: count, sum, min and max
/// exactly, the quantiles from the merged sketch within its relative error.
struct Figures: Sendable, Equatable {
    var count: Int64 = 0
    var sum: Double = 0
    var min: Double?
    var max: Double?
    var sketch = QuantileSketch()

    /// The figures of both sets of points.
    mutating func merge(_ other: Figures) {
        count += other.count
        sum += other.sum
        min = [min, other.min].compactMap { $0 }.min()
        max = [max, other.max].compactMap { $0 }.max()
        sketch.merge(other.sketch)
    }

    /// The q-quantile, clamped into [min, max] (which the sketch's estimate may overshoot by
    /// its error), nil with no points.
    func quantile(_ q: Double) -> Double? {
        guard let estimate = sketch.quantile(q), let min, let max else { return nil }
        return Swift.min(Swift.max(estimate, min), max)
    }

    /// `average_value` is 0 for no points, as the older service answered; the new fields
    /// are null then.
    var json: [String: JSONValue] {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        return [
            "count": .integer(count),
            "average_value": .number(count == 0 ? 0 : sum / Double(count)),
            "sum": .number(sum),
            "min": number(min),
            "max": number(max),
            "p50": number(quantile(0.5)),
            "p95": number(quantile(0.95)),
            "p99": number(quantile(0.99)),
        ]
    }
}
