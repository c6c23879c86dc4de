/// The answer for one request.
public struct RateLimitDecision: Sendable, Equatable {
    public var allowed: Bool
    public var policy: RateLimitPolicy
    public var remaining: Int
    /// Until the allowance is full again.
    public var resetAfter: Duration
    /// Until the next request would be allowed (zero when allowed).
    public var retryAfter: Duration
    /// True when Redis could not be asked and the in-process limiter decided.
    public var local: Bool
}
