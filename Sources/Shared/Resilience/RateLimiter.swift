import Logging

/// GCRA rate limiting in Redis, exact and atomic across instances, O(1) memory per key.
///
/// When Redis cannot answer, the same policy is enforced in process (per instance) until it
/// can: degraded to per-instance counting, never silently unlimited.
///
/// With a ``RedisBatcher``, the checks of concurrent requests share pipelines: one round trip
/// for all that arrived since the last one, and still exact, since each check is its own
/// atomic script call.
public final class RateLimiter: Sendable {
    private let redis: RedisClient?
    private let batcher: RedisBatcher?
    private let keyPrefix: String
    private let clock: ClockReading
    private let local: CellTable
    private let logger: Logger

    /// - Parameter keyPrefix: namespaces the cells, e.g. `analytics:ratelimit:`.
    /// - Parameter localCapacity: cells the in-process fallback keeps at most (least recently
    ///   used dropped first).
    /// - Parameter batcher: pipelines for the checks, over `redis` (run it as a service).
    public init<C: Clock>(
        redis: RedisClient?,
        batcher: RedisBatcher? = nil,
        keyPrefix: String,
        clock: C,
        localCapacity: Int = 100_000,
        logger: Logger
    ) where C.Duration == Duration {
        self.redis = redis
        self.batcher = batcher
        self.local = CellTable(capacity: localCapacity)
        self.keyPrefix = keyPrefix
        self.clock = ClockReading(clock)
        self.logger = logger
    }

    /// Takes `cost` units of `key`'s allowance (a batch counts its points), all or none. A
    /// cost above the policy's limit can never be allowed; callers refuse it first.
    public func check(_ key: String, policy: RateLimitPolicy, cost: Int = 1) async -> RateLimitDecision {
        let (emission, tolerance) = policy.cell
        let cell = keyPrefix + policy.name + ":" + key
        if let redis {
            do {
                let command = GCRA.script.call(keys: [cell], arguments: [Int(emission), Int(tolerance), cost])
                let reply = if let batcher { try await batcher.run(command, of: GCRA.script) } else { try await redis.run(command, of: GCRA.script) }
                if let values = reply.array?.compactMap(\.int), values.count == 4 {
                    return RateLimitDecision(
                        allowed: values[0] == 1,
                        policy: policy,
                        remaining: values[1],
                        resetAfter: .microseconds(values[2]),
                        retryAfter: .microseconds(values[3]),
                        local: false
                    )
                }
                logger.error("unexpected rate limit reply", metadata: ["ratelimit.policy": "\(policy.name)"])
            } catch {
                logger.debug("rate limit falls back to local", metadata: ["error": "\(error)"])
            }
        }
        return checkLocally(cell, emission: emission, tolerance: tolerance, cost: cost, policy: policy)
    }

    private func checkLocally(_ cell: String, emission: Int64, tolerance: Int64, cost: Int, policy: RateLimitPolicy) -> RateLimitDecision {
        let result = local.evaluate(cell, now: clock.now.microseconds, emission: emission, tolerance: tolerance, cost: Int64(cost))
        return RateLimitDecision(
            allowed: result.allowed,
            policy: policy,
            remaining: result.remaining,
            resetAfter: .microseconds(result.resetAfter),
            retryAfter: .microseconds(result.retryAfter),
            local: true
        )
    }
}
