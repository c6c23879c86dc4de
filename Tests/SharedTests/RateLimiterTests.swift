import Shared
import TestSupport
import Testing

@Suite("GCRA rate limiting", .teardown)
struct RateLimiterTests {
    let logger = TestEnvironment.logger

    @Test func gcraMathsAdmitsTheLimitThenSpacesRequests() {
        // 10 per second: emission 100 ms, tolerance 900 ms, in µs.
        let policy = RateLimitPolicy(limit: 10, period: .seconds(1))
        let emission = Int64(100_000)
        let tolerance = Int64(900_000)
        #expect(policy.emissionInterval == .milliseconds(100))
        #expect(policy.tolerance == .milliseconds(900))
        var tat: Int64? = nil
        var remaining: [Int] = []
        for _ in 0..<10 {
            let result = GCRA.evaluate(tat: tat, now: 0, emission: emission, tolerance: tolerance)
            #expect(result.allowed)
            remaining.append(result.remaining)
            tat = result.newTAT
        }
        #expect(remaining == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
        let refused = GCRA.evaluate(tat: tat, now: 0, emission: emission, tolerance: tolerance)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 100_000)  // the next slot opens one emission later
        #expect(refused.resetAfter == 1_000_000)
        // Exactly at the retry time it is allowed, a microsecond earlier it is not.
        #expect(!GCRA.evaluate(tat: tat, now: 99_999, emission: emission, tolerance: tolerance).allowed)
        #expect(GCRA.evaluate(tat: tat, now: 100_000, emission: emission, tolerance: tolerance).allowed)
        // After a full period of silence the whole allowance is back.
        #expect(GCRA.evaluate(tat: tat, now: 1_000_000, emission: emission, tolerance: tolerance).remaining == 9)
    }

    @Test func limitsOverAMillionPerSecondAdmitInsteadOfDividingByZero() async throws {
        let server = try await PrivateRedis.start()
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(url: server.url), logger: logger)
        afterTest {
            await redis.shutdown()
            try? await server.stop()
        }
        let policies = [RateLimitPolicy(limit: 1_000_000_000, period: .seconds(1)), RateLimitPolicy(limit: .max, period: .seconds(1))]
        for limiter in [
            RateLimiter(redis: redis, keyPrefix: "test:ratelimit:", clock: TestClock(), logger: logger),
            RateLimiter(redis: nil, keyPrefix: "test:ratelimit:", clock: TestClock(), logger: logger),
        ] {
            for policy in policies {
                for _ in 0..<3 {
                    let decision = await limiter.check("huge", policy: policy)
                    #expect(decision.allowed && decision.remaining > 1_000, "\(decision)")
                }
            }
        }
    }

    /// A batch of n takes n slots at once or none: 3 + 2 of 5 pass, then a batch of 2 is
    /// refused whole while 1 slot is free, and its wait is until both fit. The Redis script
    /// and the in-process fallback answer the same.
    @Test func aCostlyRequestIsAdmittedWholeOrNotAtAll() async throws {
        let emission: Int64 = 1_000_000
        let tolerance: Int64 = 4_000_000  // 5 per 5 s
        let three = GCRA.evaluate(tat: nil, now: 0, emission: emission, tolerance: tolerance, cost: 3)
        #expect(three.allowed && three.remaining == 2 && three.newTAT == 3_000_000)
        let six = GCRA.evaluate(tat: nil, now: 0, emission: emission, tolerance: tolerance, cost: 6)
        #expect(!six.allowed && six.newTAT == 0, "more than the limit never fits")
        let one = GCRA.evaluate(tat: three.newTAT, now: 0, emission: emission, tolerance: tolerance, cost: 1)
        let two = GCRA.evaluate(tat: one.newTAT, now: 0, emission: emission, tolerance: tolerance, cost: 2)
        #expect(!two.allowed && two.remaining == 1 && two.retryAfter == 1_000_000 && two.newTAT == one.newTAT)
        #expect(GCRA.evaluate(tat: one.newTAT, now: 1_000_000, emission: emission, tolerance: tolerance, cost: 2).allowed)

        let server = try await PrivateRedis.start()
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(url: server.url), logger: logger)
        afterTest {
            await redis.shutdown()
            try? await server.stop()
        }
        let policy = RateLimitPolicy(limit: 5, period: .seconds(3_600))
        for limiter in [
            RateLimiter(redis: redis, keyPrefix: "test:ratelimit:", clock: TestClock(), logger: logger),
            RateLimiter(redis: nil, keyPrefix: "test:ratelimit:", clock: TestClock(), logger: logger),
        ] {
            let key = TestEnvironment.unique("batch")
            let answers = [
                await limiter.check(key, policy: policy, cost: 3), await limiter.check(key, policy: policy, cost: 1),
                await limiter.check(key, policy: policy, cost: 2), await limiter.check(key, policy: policy, cost: 1),
            ]
            #expect(answers.map(\.allowed) == [true, true, false, true], "\(answers)")
            #expect(answers.map(\.remaining) == [2, 1, 1, 0])
            #expect(answers[2].retryAfter > .seconds(700) && answers[2].retryAfter <= .seconds(720))
        }
    }

    /// A clock stepped back by an hour: the stored arrival time is clamped to what a correct
    /// clock could have left, so the client waits one emission interval, not an hour.
    @Test func aBackwardClockStepDoesNotLockClientsOut() {
        let emission: Int64 = 1_000_000
        let tolerance: Int64 = 4_000_000  // 5 per 5 s
        let stepped = GCRA.evaluate(tat: 3_600_000_000, now: 0, emission: emission, tolerance: tolerance)
        #expect(stepped.allowed && stepped.remaining == 0 && stepped.newTAT == 5_000_000)
        let next = GCRA.evaluate(tat: stepped.newTAT, now: 0, emission: emission, tolerance: tolerance)
        #expect(!next.allowed && next.retryAfter == emission)
        // A legitimately full cell (one emission ahead of the tolerance) is not touched.
        #expect(!GCRA.evaluate(tat: 5_000_000, now: 0, emission: emission, tolerance: tolerance).allowed)
    }

    @Test func withRedisStoppedTheLocalFallbackStillLimits() async throws {
        let server = try await PrivateRedis.start()
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(url: server.url), logger: logger)
        afterTest { await redis.shutdown() }
        let clock = TestClock()
        let limiter = RateLimiter(redis: redis, keyPrefix: "test:ratelimit:", clock: clock, logger: logger)
        let policy = RateLimitPolicy(limit: 10, period: .seconds(1))
        #expect(await !limiter.check("a", policy: policy).local)
        try await server.stop()

        let decisions = await limiter.burst(100, of: "b", policy: policy)
        #expect(decisions.allSatisfy { $0.local })
        #expect(decisions.filter(\.allowed).count == 10)
        #expect(decisions.filter { !$0.allowed }.allSatisfy { $0.retryAfter == .milliseconds(100) })
        clock.advance(by: .milliseconds(100))
        #expect(await limiter.check("b", policy: policy).allowed)
        #expect(await !limiter.check("b", policy: policy).allowed)

        try await server.start()
        #expect(await eventually { await !limiter.check("c", policy: policy).local })
        try await server.stop()
    }
}

/// Timing-exact tests: `scripts/test.sh` runs suites named "Exclusive" in a second, serial
/// pass, so a burst meant to arrive within one emission interval is not spread out by the
/// rest of the suite competing for the two cores.
@Suite("Exclusive GCRA burst", .teardown)
struct ExclusiveRateLimiterTests {
    let logger = TestEnvironment.logger

    @Test func exactlyTheLimitOfConcurrentRequestsIsAdmitted() async throws {
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(), logger: logger)
        afterTest { await redis.shutdown() }
        let limiter = RateLimiter(redis: redis, keyPrefix: "test:ratelimit:", clock: ContinuousClock(), logger: logger)
        let policy = RateLimitPolicy(name: "burst", limit: 10, period: .seconds(1))
        let key = TestEnvironment.unique("client")
        // Warm up: load the script and open every pooled connection, so the burst measures
        // the limiter, not connection set-up.
        _ = await limiter.check(TestEnvironment.unique("warm"), policy: policy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 { group.addTask { try await redis.ping() } }
            try await group.waitForAll()
        }
        let decisions = await limiter.burst(100, of: key, policy: policy)
        #expect(decisions.allSatisfy { !$0.local })
        #expect(decisions.filter(\.allowed).count == 10)
        #expect(Set(decisions.filter(\.allowed).map(\.remaining)) == Set(0..<10))
        let refused = decisions.filter { !$0.allowed }
        #expect(refused.count == 90)
        // Retry-After: the next slot is at most one emission interval (100 ms) away.
        #expect(refused.allSatisfy { $0.retryAfter > .zero && $0.retryAfter <= .milliseconds(100) && $0.remaining == 0 })
        #expect(refused.allSatisfy { $0.headers[.retryAfter] == nil })  // Retry-After is added on the 429 itself
        let headers = refused[0].headers
        #expect(headers[.rateLimitPolicy] == "\"burst\";q=10;w=1")
        #expect(headers[.rateLimit] == "\"burst\";r=0;t=1")
        #expect(headers[.xRateLimitLimit] == "10")
        #expect(headers[.xRateLimitRemaining] == "0")
        // Once the retry time has passed, one more is admitted.
        let wait = refused.map(\.retryAfter).max()!
        try await Task.sleep(for: wait + .milliseconds(5))
        #expect(await limiter.check(key, policy: policy).allowed)
    }
}

@Suite("Retry budget", .teardown)
struct RetryBudgetTests {
    @Test func theBudgetCapsRetriesToAShareOfRequests() {
        let budget = RetryBudget(ratio: 0.1, minTokens: 2, maxTokens: 5)
        // Every call fails and wants one retry: with 2 starting tokens and 0.1 per request,
        // 10 requests may make 2 + 10 × 0.1 = 3 retries in all, not 10.
        var retries = 0
        for _ in 0..<10 {
            budget.recordAttempt()
            if budget.tryWithdraw() { retries += 1 }
        }
        #expect(retries == 3)
        for _ in 0..<100 { budget.recordAttempt() }
        #expect(budget.tokens == 5, "the balance is capped")
    }
}
