import Shared

extension RateLimiter {
    /// `count` checks of `key` at once, as concurrent requests make them; their decisions in
    /// the order they came back.
    public func burst(_ count: Int, of key: String, policy: RateLimitPolicy) async -> [RateLimitDecision] {
        await withTaskGroup(of: RateLimitDecision.self) { group in
            for _ in 0..<count { group.addTask { await self.check(key, policy: policy) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }
}
