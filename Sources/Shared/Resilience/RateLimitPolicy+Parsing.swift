extension RateLimitPolicy {
    /// `<limit>/<seconds>`, e.g. `20/60`.
    public init(parsing text: String, name: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let limit = Double(parts[0]), let seconds = Double(parts[1]) else {
            throw ConfigurationError("<limit>/<seconds>, not \(text)")
        }
        try self.init(name: name, checkedLimit: limit, periodSeconds: seconds)
    }

    /// A policy from numbers read from configuration, refused (rather than trapping later in
    /// the arithmetic) unless the limit is a whole number from 1 to 10^9 and the period is
    /// above zero and at most a year.
    public init(name: String, checkedLimit limit: Double, periodSeconds seconds: Double) throws {
        guard (1...1_000_000_000).contains(limit), limit.rounded() == limit, seconds > 0, seconds <= 86_400 * 366 else {
            throw ConfigurationError("a whole limit of 1 to 10^9 per more than 0 and at most 31622400 seconds, not \(limit) per \(seconds)")
        }
        self.init(name: name, limit: Int(limit), period: .milliseconds(Int64(seconds * 1000)))
    }
}
