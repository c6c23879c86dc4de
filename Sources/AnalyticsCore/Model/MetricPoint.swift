import Shared

/// One measurement: a value of a metric type at an instant (microseconds since 1970, UTC).
struct MetricPoint: Sendable, Equatable {
    /// `[A-Za-z0-9_.:-]{1,64}`.
    var type: String
    var timestamp: Int64
    var value: Double

    static let maxTypeLength = 64
}
