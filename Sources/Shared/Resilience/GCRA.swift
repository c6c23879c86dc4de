/// The generic cell rate algorithm: one stored instant per key, the theoretical arrival time
/// (TAT). A request at `now` is allowed when `max(TAT, now) - now <= tolerance`, and then
/// moves TAT forward by one emission interval. This is the maths of both the Redis script and
/// the in-process fallback, in microseconds.
public enum GCRA {
    public struct Result: Sendable, Equatable {
        public var allowed: Bool
        public var newTAT: Int64
        public var remaining: Int
        public var resetAfter: Int64
        public var retryAfter: Int64
    }

    /// A stored TAT is never more than `tolerance + emission` ahead of a correct clock; one
    /// further ahead means the clock stepped back, and it is taken as `now + tolerance` (the
    /// allowance just used up), so a backward step never locks a client out for its length.
    ///
    /// A request of `cost` n (a batch of n points) takes n emission intervals at once and is
    /// allowed only whole: when all n fit in the allowance. One costing more than the policy's
    /// limit never fits; callers refuse it before asking.
    public static func evaluate(tat stored: Int64?, now: Int64, emission: Int64, tolerance: Int64, cost: Int64 = 1) -> Result {
        var tat = max(stored ?? now, now)
        if tat - now > tolerance + emission { tat = now + tolerance }
        let newTAT = tat + emission * cost
        if newTAT - now > tolerance + emission {
            let remaining = tat - now > tolerance ? 0 : Int((tolerance - (tat - now)) / emission) + 1
            return Result(allowed: false, newTAT: tat, remaining: remaining, resetAfter: tat - now, retryAfter: newTAT - now - tolerance - emission)
        }
        let remaining = Int((tolerance - (newTAT - now)) / emission) + 1
        return Result(allowed: true, newTAT: newTAT, remaining: max(0, remaining), resetAfter: newTAT - now, retryAfter: 0)
    }

    /// The same algorithm as one atomic Lua script; Redis' own clock (`TIME`) is the time
    /// base so every instance agrees. KEYS[1] = cell; ARGV = emission µs, tolerance µs, cost.
    /// Returns {allowed, remaining, reset µs, retry µs}.
    public static let script = RedisScript(
        """
        local emission = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3] or '1')
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        if tat - now > tolerance + emission then tat = now + tolerance end
        local new_tat = tat + emission * cost
        if new_tat - now > tolerance + emission then
            local remaining = 0
            if tat - now <= tolerance then remaining = math.floor((tolerance - (tat - now)) / emission) + 1 end
            return {0, remaining, tat - now, new_tat - now - tolerance - emission}
        end
        redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
        return {1, math.floor((tolerance - (new_tat - now)) / emission) + 1, new_tat - now, 0}
        """
    )
}
