import Logging
import NIOConcurrencyHelpers

/// GCRA rate limiting in Redis, exact and atomic across instances, O(1) memory per key.
///
/// When Redis cannot answer, the same policy is enforced in process (per instance) until it
/// can: degraded to per-instance counting, never silently unlimited.
public final class RateLimiter: Sendable {
    private let redis: RedisClient?
    private let keyPrefix: String
    private let clock: ClockReading
    private let local = NIOLockedValueBox<[String: Int64]>([:])
    private let logger: Logger

    /// - Parameter keyPrefix: namespaces the cells, e.g. `analytics:ratelimit:`.
    public init<C: Clock>(redis: RedisClient?, keyPrefix: String, clock: C, logger: Logger) where C.Duration == Duration {
        self.redis = redis
        self.keyPrefix = keyPrefix
        self.clock = ClockReading(clock)
        self.logger = logger
    }

    public func check(_ key: String, policy: RateLimitPolicy) async -> RateLimitDecision {
        // The cells count microseconds: over a million requests per second the emission
        // interval would round to 0 (and the maths divide by it), so it is held at 1 µs. The
        // tolerance stays below 2^50 µs (35 years), where Lua's doubles are still exact.
        let emission = max(1, policy.emissionInterval.microseconds)
        let (product, overflow) = emission.multipliedReportingOverflow(by: Int64(policy.limit - 1))
        let tolerance = overflow ? 1 << 50 : min(product, 1 << 50)
        let cell = keyPrefix + policy.name + ":" + key
        if let redis {
            do {
                let reply = try await redis.run(GCRA.script, keys: [cell], arguments: [Int(emission), Int(tolerance)])
                if let values = reply.array?.compactMap(\.int), values.count == 4 {
                    return RateLimitDecision(
                        allowed: values[0] == 1, policy: policy, remaining: values[1],
                        resetAfter: .microseconds(values[2]), retryAfter: .microseconds(values[3]), local: false
                    )
                }
                logger.error("unexpected rate limit reply", metadata: ["ratelimit.key": "\(cell)"])
            } catch {
                logger.debug("rate limit falls back to local", metadata: ["error": "\(error)"])
            }
        }
        return checkLocally(cell, emission: emission, tolerance: tolerance, policy: policy)
    }

    private func checkLocally(_ cell: String, emission: Int64, tolerance: Int64, policy: RateLimitPolicy) -> RateLimitDecision {
        let now = clock.now.microseconds
        let result = local.withLockedValue { cells in
            let result = GCRA.evaluate(tat: cells[cell], now: now, emission: emission, tolerance: tolerance)
            cells[cell] = result.newTAT
            // Cells in the past hold no information; drop them so memory tracks active keys.
            if cells.count > 10_000 { cells = cells.filter { $0.value > now } }
            return result
        }
        return RateLimitDecision(
            allowed: result.allowed, policy: policy, remaining: result.remaining,
            resetAfter: .microseconds(result.resetAfter), retryAfter: .microseconds(result.retryAfter), local: true
        )
    }
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
