/// `limit` requests per `period`, all of which may come at once from a full allowance.
public struct RateLimitPolicy: Sendable, Equatable {
    /// Names the policy in the `RateLimit-Policy` header.
    public var name: String
    public var limit: Int
    public var period: Duration

    public init(name: String = "default", limit: Int, period: Duration) {
        precondition(limit > 0 && period > .zero, "a rate limit needs a positive limit and period")
        self.name = name
        self.limit = limit
        self.period = period
    }

    /// The GCRA emission interval: one request's share of the period.
    public var emissionInterval: Duration { period / limit }
    /// The burst tolerance: how far ahead of now the theoretical arrival time may run.
    public var tolerance: Duration { emissionInterval * (limit - 1) }

    /// Emission interval and tolerance in whole microseconds, as the cells count them. Over a
    /// million requests per second the interval would round to 0 (and the maths divide by
    /// it), so it is held at 1 µs; the tolerance stays below 2^50 µs (35 years), where Lua's
    /// doubles are still exact.
    public var cell: (emission: Int64, tolerance: Int64) {
        let emission = max(1, emissionInterval.microseconds)
        let (product, overflow) = emission.multipliedReportingOverflow(by: Int64(limit - 1))
        return (emission, overflow ? 1 << 50 : min(product, 1 << 50))
    }
}
