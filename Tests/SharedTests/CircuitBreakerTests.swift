import NIOConcurrencyHelpers
import Shared
import TestSupport
import Testing

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let clock = TestClock()
    let transitions = NIOLockedValueBox<[CircuitBreaker.Transition]>([])

    func makeBreaker(
        _ configuration: CircuitBreaker.Configuration = .init(
            windowSize: 10,
            minimumCalls: 4,
            failureRateThreshold: 0.5,
            slowCallRateThreshold: 0.5,
            slowCallDuration: .milliseconds(500),
            openDuration: .seconds(1),
            maxOpenDuration: .seconds(4),
            openDurationMultiplier: 2,
            halfOpenProbes: 2
        )
    ) -> CircuitBreaker {
        let transitions = self.transitions
        return CircuitBreaker(caller: "post", dependency: "profile", configuration: configuration, clock: clock) { transition in
            transitions.withLockedValue { $0.append(transition) }
        }
    }

    var moves: [String] {
        transitions.withLockedValue { $0.map { "\($0.from.rawValue)->\($0.to.rawValue):\($0.reason.rawValue)" } }
    }

    func call(_ breaker: CircuitBreaker, _ outcome: CircuitBreaker.Outcome, taking duration: Duration = .milliseconds(10)) throws {
        let permit = try breaker.acquire()
        clock.advance(by: duration)
        breaker.record(permit, outcome: outcome, duration: duration)
    }

    @Test func opensOnFailureRateOnlyOnceMinimumCallsAreIn() throws {
        let breaker = makeBreaker()
        try call(breaker, .failure)
        try call(breaker, .failure)
        try call(breaker, .failure)
        #expect(breaker.state == .closed)  // 3 of 3 failed, but fewer than minimumCalls
        try call(breaker, .success)
        #expect(breaker.state == .open)  // 3 of 4 = 75 % ≥ 50 %
        #expect(moves == ["closed->open:failure_rate"])
    }

    @Test func staysClosedBelowTheThreshold() throws {
        let breaker = makeBreaker()
        for outcome: CircuitBreaker.Outcome in [.success, .success, .failure, .success, .success, .failure, .success, .failure] {
            try call(breaker, outcome)
        }
        #expect(breaker.state == .closed)  // 3 of 8 = 37.5 %
        try call(breaker, .failure)
        #expect(breaker.state == .closed)  // 4 of 9 = 44 %
        try call(breaker, .failure)
        #expect(breaker.state == .open)  // 5 of 10 = 50 %
    }

    @Test func slidingWindowForgetsOldOutcomes() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .success) }
        for _ in 0..<3 { try call(breaker, .failure) }  // 3 of 7
        for _ in 0..<10 { try call(breaker, .success) }  // the failures slide out
        for _ in 0..<4 { try call(breaker, .failure) }  // window: 6 successes, 4 failures
        #expect(breaker.state == .closed)
        try call(breaker, .failure)  // 5 of 10
        #expect(breaker.state == .open)
    }

    @Test func opensOnSlowCalls() throws {
        let breaker = makeBreaker()
        try call(breaker, .success, taking: .milliseconds(499))
        try call(breaker, .success, taking: .milliseconds(500))
        try call(breaker, .success, taking: .seconds(2))
        #expect(breaker.state == .closed)
        try call(breaker, .success)  // 2 slow of 4
        #expect(breaker.state == .open)
        #expect(moves == ["closed->open:slow_call_rate"])
    }

    @Test func openRefusesAtOnceThenHalfOpensAfterTheWait() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .failure) }
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }
        do {
            _ = try breaker.acquire()
        } catch let error as CircuitOpenError {
            #expect(error.retryAfter == .seconds(1))
        }
        clock.advance(by: .milliseconds(999))
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }
        clock.advance(by: .milliseconds(1))
        #expect(breaker.state == .halfOpen)
        _ = try breaker.acquire()
        #expect(moves == ["closed->open:failure_rate", "open->half_open:wait_elapsed"])
    }

    @Test func halfOpenBoundsProbesAndClosesAfterTheirSuccess() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .failure) }
        clock.advance(by: .seconds(1))
        let first = try breaker.acquire()
        let second = try breaker.acquire()
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }  // only two probes
        breaker.record(first, outcome: .success, duration: .milliseconds(5))
        #expect(breaker.state == .halfOpen)
        breaker.record(second, outcome: .success, duration: .milliseconds(5))
        #expect(breaker.state == .closed)
        #expect(moves.last == "half_open->closed:probes_succeeded")
        // Closed again with a fresh window: one failure does not reopen it.
        try call(breaker, .failure)
        #expect(breaker.state == .closed)
    }

    @Test func aFailedProbeReopensForLongerEachTime() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .failure) }
        var waits: [Duration] = []
        for _ in 0..<4 {
            clock.advance(by: .seconds(10))
            try call(breaker, .failure)  // the probe fails
            waits.append(transitions.withLockedValue { $0.last!.openFor! })
        }
        #expect(waits == [.seconds(2), .seconds(4), .seconds(4), .seconds(4)])  // doubles, capped
        #expect(moves.last == "half_open->open:probe_failed")
        // A slow probe counts as failed too.
        clock.advance(by: .seconds(10))
        try call(breaker, .success, taking: .seconds(1))
        #expect(breaker.state == .open)
    }

    /// 1,000 consecutive trips (a dependency that heartbeats `up` and fails every probe):
    /// the open period stays at the cap and nothing traps. Before the fix the wait was
    /// `openDuration * 2^(trips-1)` as a `Duration`, which overflowed past ~65 trips.
    @Test func athousandConsecutiveTripsStayAtTheCap() throws {
        let breaker = makeBreaker(
            .init(
                windowSize: 10,
                minimumCalls: 4,
                openDuration: .seconds(1),
                maxOpenDuration: .seconds(30),
                openDurationMultiplier: 2,
                halfOpenProbes: 1
            )
        )
        for _ in 0..<4 { try call(breaker, .failure) }
        #expect(breaker.state == .open)
        for trip in 2...1_000 {
            breaker.dependencyAvailabilityChanged(.up)  // a fresh `up` heartbeat: a probe may go
            #expect(breaker.state == .halfOpen)
            try call(breaker, .failure)
            #expect(breaker.state == .open)
            let last = transitions.withLockedValue { $0.last }
            #expect(last?.openFor == (trip >= 6 ? .seconds(30) : .seconds(1 << (trip - 1))), "trip \(trip)")
        }
        #expect(breaker.openDuration(afterTrips: Int.max) == .seconds(30))
        #expect(breaker.openDuration(afterTrips: 1) == .seconds(1))
    }

    @Test func extremeConfigurationsNeverTrap() {
        let huge = makeBreaker(.init(openDuration: .seconds(Int64.max / 4), maxOpenDuration: .seconds(Int64.max / 2), openDurationMultiplier: 1e308))
        #expect(huge.openDuration(afterTrips: 500) == .seconds(Int64.max / 2))
        let zero = makeBreaker(.init(openDuration: .zero, maxOpenDuration: .seconds(30), openDurationMultiplier: .infinity))
        #expect(zero.openDuration(afterTrips: 3) == .seconds(30))  // 0 · ∞ is NaN: held at the cap
    }

    /// A released permit frees its probe slot and records nothing.
    @Test func aReleasedProbeNeitherClosesNorReopens() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .failure) }
        clock.advance(by: .seconds(1))
        let first = try breaker.acquire()
        let second = try breaker.acquire()
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }
        breaker.release(first)
        #expect(breaker.state == .halfOpen)
        let third = try breaker.acquire()  // the released slot is free again
        breaker.record(second, outcome: .success, duration: .zero)
        breaker.record(third, outcome: .success, duration: .zero)
        #expect(breaker.state == .closed)
    }

    @Test func closingResetsTheGrowingWait() throws {
        let breaker = makeBreaker()
        for _ in 0..<4 { try call(breaker, .failure) }
        clock.advance(by: .seconds(1))
        try call(breaker, .failure)  // reopen, 2 s
        clock.advance(by: .seconds(2))
        try call(breaker, .success)
        try call(breaker, .success)
        #expect(breaker.state == .closed)
        for _ in 0..<4 { try call(breaker, .failure) }
        #expect(transitions.withLockedValue { $0.last!.openFor } == .seconds(1))
    }

    @Test func outcomesFromBeforeAStateChangeAreIgnored() throws {
        let breaker = makeBreaker()
        let stale = try breaker.acquire()
        for _ in 0..<4 { try call(breaker, .failure) }
        clock.advance(by: .seconds(1))
        _ = try breaker.acquire()  // half-open now
        breaker.record(stale, outcome: .success, duration: .milliseconds(1))
        breaker.record(stale, outcome: .success, duration: .milliseconds(1))
        #expect(breaker.state == .halfOpen)  // the stale successes did not close it
    }

    @Test func forcedOpenAndDisabledHoldUntilReset() throws {
        let breaker = makeBreaker()
        breaker.forceOpen()
        clock.advance(by: .seconds(3600))
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }
        #expect(breaker.state == .forcedOpen)
        breaker.dependencyAvailabilityChanged(.up)  // health does not override an operator
        #expect(breaker.state == .forcedOpen)

        breaker.disable()
        for _ in 0..<20 { try call(breaker, .failure) }
        #expect(breaker.state == .disabled)
        breaker.dependencyAvailabilityChanged(.down)
        #expect(breaker.state == .disabled)

        breaker.reset()
        #expect(breaker.state == .closed)
        #expect(moves == ["closed->forced_open:operator", "forced_open->disabled:operator", "disabled->closed:operator"])
    }

    @Test func healthRegistryOpensAtOnceAndAFreshUpAllowsAProbe() throws {
        let breaker = makeBreaker()
        breaker.dependencyAvailabilityChanged(.down)
        #expect(breaker.state == .open)
        #expect(throws: CircuitOpenError.self) { try breaker.acquire() }
        breaker.dependencyAvailabilityChanged(.unknown)  // a lost channel concludes nothing
        #expect(breaker.state == .open)
        breaker.dependencyAvailabilityChanged(.up)  // before the open period is over
        #expect(breaker.state == .halfOpen)
        try call(breaker, .success)
        try call(breaker, .success)
        #expect(breaker.state == .closed)
        #expect(moves == ["closed->open:health_down", "open->half_open:health_up", "half_open->closed:probes_succeeded"])
    }

    @Test func executeTimesWithTheClockAndClassifiesErrors() async throws {
        struct NotFound: Error {}
        struct Broken: Error {}
        let breaker = makeBreaker()
        for _ in 0..<10 {
            await #expect(throws: NotFound.self) {
                try await breaker.execute(isFailure: { !($0 is NotFound) }, { () async throws -> Int in throw NotFound() })
            }
        }
        #expect(breaker.state == .closed)  // answers the caller did not like are not failures
        for _ in 0..<5 {
            _ = try? await breaker.execute { () async throws -> Int in throw Broken() }
        }
        #expect(breaker.state == .open)
        await #expect(throws: CircuitOpenError.self) { try await breaker.execute { 1 } }
    }
}
