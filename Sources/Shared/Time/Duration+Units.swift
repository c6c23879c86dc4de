extension Duration {
    /// The duration as fractional seconds.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded up, for headers and wire formats.
    public var millisecondsRoundedUp: Int64 {
        let (s, attoseconds) = components
        return s * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }

    /// Whole seconds, rounded up, at least 1: the unit of `Retry-After`.
    public var wholeSecondsRoundedUp: Int {
        max(1, Int((millisecondsRoundedUp + 999) / 1000))
    }

    /// Whole microseconds, rounded down: the rate limiter's unit in Redis, and the unit of
    /// timestamps stored as integers.
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
