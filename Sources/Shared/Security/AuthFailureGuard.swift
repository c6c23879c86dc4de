/// Makes guessing API keys expensive: refused key checks (401 and 403) are counted per client
/// address, and a client over the limit gets 429 for every keyed request, right or wrong key,
/// until its allowance is back. So a guess costs the same whether or not it is right, and
/// a client may make at most `policy.limit` of them per `policy.period`.
///
/// Counted in process, per instance (bounded memory, least recently used dropped first):
/// the limit holds with Redis down, and N instances allow at most N times as many guesses.
public final class AuthFailureGuard: Sendable {
    public let policy: RateLimitPolicy
    private let cells: CellTable
    private let clock: ClockReading

    /// Default `AUTH_FAILURE_LIMIT`: 20 refused checks per 60 s per client address.
    public static let defaultPolicy = RateLimitPolicy(name: "auth-failures", limit: 20, period: .seconds(60))

    public init<C: Clock>(policy: RateLimitPolicy = defaultPolicy, clock: C, capacity: Int = 100_000) where C.Duration == Duration {
        self.policy = policy
        self.cells = CellTable(capacity: capacity)
        self.clock = ClockReading(clock)
    }

    /// How long `client` must wait before its next keyed request, or nil if it may go on.
    public func blocked(_ client: String) -> Duration? {
        let (emission, tolerance) = policy.cell
        let result = cells.peek(client, now: clock.now.microseconds, emission: emission, tolerance: tolerance)
        return result.allowed ? nil : .microseconds(max(result.retryAfter, 1))
    }

    /// One refused key check by `client`.
    public func recordFailure(_ client: String) {
        let (emission, tolerance) = policy.cell
        _ = cells.evaluate(client, now: clock.now.microseconds, emission: emission, tolerance: tolerance)
    }

    /// Runs a key check for `client`: refuses at once while it is over the limit, and counts
    /// a 401 or 403 that `check` throws.
    public func check<T>(_ client: String, _ check: () throws -> T) throws -> T {
        if let wait = blocked(client) {
            throw ProblemDetails.rateLimited(retryAfter: wait, headers: [:], detail: "too many refused API keys from this client")
        }
        do {
            return try check()
        } catch let problem as ProblemDetails where problem.status == .unauthorized || problem.status == .forbidden {
            recordFailure(client)
            throw problem
        }
    }
}
