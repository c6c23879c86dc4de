import Foundation
import NIOConcurrencyHelpers

/// A circuit breaker guarding calls from one caller to one dependency.
///
/// - closed: calls pass; their outcomes fill a count-based sliding window. Once it holds at
///   least `minimumCalls`, a failure rate or slow-call rate at or over its threshold opens it.
/// - open: calls are refused at once with ``CircuitOpenError`` (the caller answers from its
///   fallback, never waiting for a timeout). After the open period, which grows with each
///   consecutive trip up to a cap, it lets probes through (half-open).
/// - half-open: at most `halfOpenProbes` calls at a time; that many successes close it, one
///   failure or slow call opens it again.
/// - forced-open and disabled: set by operators; they hold until ``reset()``.
///
/// The health registry feeds it too: all instances down opens it at once, and a fresh `up`
/// heartbeat lets a probe through without waiting out the open period.
public final class CircuitBreaker: Sendable {
    public struct Configuration: Sendable {
        public var windowSize: Int
        public var minimumCalls: Int
        public var failureRateThreshold: Double
        public var slowCallRateThreshold: Double
        public var slowCallDuration: Duration
        public var openDuration: Duration
        public var maxOpenDuration: Duration
        public var openDurationMultiplier: Double
        public var halfOpenProbes: Int

        /// Defaults: window 20, at least 5 calls, 50 % failures or 50 % slow calls (≥ 1 s)
        /// trip it; open 1 s, doubling per consecutive trip up to 30 s; 2 probes.
        public init(
            windowSize: Int = 20,
            minimumCalls: Int = 5,
            failureRateThreshold: Double = 0.5,
            slowCallRateThreshold: Double = 0.5,
            slowCallDuration: Duration = .seconds(1),
            openDuration: Duration = .seconds(1),
            maxOpenDuration: Duration = .seconds(30),
            openDurationMultiplier: Double = 2,
            halfOpenProbes: Int = 2
        ) {
            self.windowSize = max(1, windowSize)
            self.minimumCalls = max(1, min(minimumCalls, windowSize))
            self.failureRateThreshold = failureRateThreshold
            self.slowCallRateThreshold = slowCallRateThreshold
            self.slowCallDuration = slowCallDuration
            self.openDuration = openDuration
            self.maxOpenDuration = maxOpenDuration
            self.openDurationMultiplier = openDurationMultiplier
            self.halfOpenProbes = max(1, halfOpenProbes)
        }
    }

    public enum State: String, Sendable, Codable {
        case closed
        case open
        case halfOpen = "half_open"
        case forcedOpen = "forced_open"
        case disabled
    }

    /// Why the breaker moved; published for the dashboard and counted in metrics.
    public enum Reason: String, Sendable, Codable {
        case failureRate = "failure_rate"
        case slowCallRate = "slow_call_rate"
        case waitElapsed = "wait_elapsed"
        case probesSucceeded = "probes_succeeded"
        case probeFailed = "probe_failed"
        case healthDown = "health_down"
        case healthUp = "health_up"
        case operatorAction = "operator"
    }

    public struct Transition: Sendable, Equatable {
        public let caller: String
        public let dependency: String
        public let from: State
        public let to: State
        public let reason: Reason
        /// How long it stays open (for transitions to `open`).
        public let openFor: Duration?
    }

    public enum Outcome: Sendable {
        case success
        case failure
    }

    /// Handed out by ``acquire()``; give it back to ``record(_:outcome:duration:)``.
    public struct Permit: Sendable {
        fileprivate let generation: Int
        fileprivate let isProbe: Bool
    }

    private struct Window {
        var slots: [(failed: Bool, slow: Bool)?]
        var next = 0
        var count = 0
        var failures = 0
        var slow = 0

        init(size: Int) { slots = Array(repeating: nil, count: size) }

        mutating func add(failed: Bool, slow isSlow: Bool) {
            if let old = slots[next] {
                count -= 1
                if old.failed { failures -= 1 }
                if old.slow { slow -= 1 }
            }
            slots[next] = (failed, isSlow)
            next = (next + 1) % slots.count
            count += 1
            if failed { failures += 1 }
            if isSlow { slow += 1 }
        }
    }

    private struct Inner {
        var state: State = .closed
        var generation = 0
        var window: Window
        var openUntil: Duration = .zero
        var consecutiveTrips = 0
        var probesInFlight = 0
        var probeSuccesses = 0
    }

    public let caller: String
    public let dependency: String
    public let configuration: Configuration
    private let clock: ClockReading
    private let inner: NIOLockedValueBox<Inner>
    private let onTransition: @Sendable (Transition) -> Void

    public init<C: Clock>(
        caller: String,
        dependency: String,
        configuration: Configuration = Configuration(),
        clock: C,
        onTransition: @escaping @Sendable (Transition) -> Void = { _ in }
    ) where C.Duration == Duration {
        self.caller = caller
        self.dependency = dependency
        self.configuration = configuration
        self.clock = ClockReading(clock)
        self.inner = NIOLockedValueBox(Inner(window: Window(size: configuration.windowSize)))
        self.onTransition = onTransition
    }

    public var state: State {
        let now = clock.now
        return inner.withLockedValue { inner in
            // Report half-open once the wait is over, even before a call arrives.
            inner.state == .open && now >= inner.openUntil ? .halfOpen : inner.state
        }
    }

    /// Asks to make a call. Throws ``CircuitOpenError`` when the breaker refuses it.
    public func acquire() throws -> Permit {
        let now = clock.now
        let (result, transition) = inner.withLockedValue { inner -> (Result<Permit, CircuitOpenError>, Transition?) in
            var transition: Transition?
            if inner.state == .open && now >= inner.openUntil {
                transition = move(&inner, to: .halfOpen, reason: .waitElapsed, now: now)
            }
            switch inner.state {
            case .closed, .disabled:
                return (.success(Permit(generation: inner.generation, isProbe: false)), transition)
            case .halfOpen where inner.probesInFlight + inner.probeSuccesses < configuration.halfOpenProbes:
                inner.probesInFlight += 1
                return (.success(Permit(generation: inner.generation, isProbe: true)), transition)
            case .halfOpen:
                return (.failure(refusal(retryAfter: configuration.openDuration)), transition)
            case .open:
                return (.failure(refusal(retryAfter: inner.openUntil - now)), transition)
            case .forcedOpen:
                return (.failure(refusal(retryAfter: configuration.maxOpenDuration)), transition)
            }
        }
        transition.map(onTransition)
        return try result.get()
    }

    /// Records how a permitted call went. Outcomes of calls that began before the last state
    /// change are ignored: they describe a past the breaker has moved on from.
    public func record(_ permit: Permit, outcome: Outcome, duration: Duration) {
        let now = clock.now
        let slow = duration >= configuration.slowCallDuration
        let failed = outcome == .failure
        let transition = inner.withLockedValue { inner -> Transition? in
            guard permit.generation == inner.generation else { return nil }
            switch inner.state {
            case .closed:
                inner.window.add(failed: failed, slow: slow)
                guard inner.window.count >= configuration.minimumCalls else { return nil }
                let count = Double(inner.window.count)
                if Double(inner.window.failures) / count >= configuration.failureRateThreshold {
                    return trip(&inner, reason: .failureRate, now: now)
                }
                if Double(inner.window.slow) / count >= configuration.slowCallRateThreshold {
                    return trip(&inner, reason: .slowCallRate, now: now)
                }
                return nil
            case .halfOpen where permit.isProbe:
                inner.probesInFlight -= 1
                if failed || slow {
                    return trip(&inner, reason: .probeFailed, now: now)
                }
                inner.probeSuccesses += 1
                if inner.probeSuccesses >= configuration.halfOpenProbes {
                    inner.consecutiveTrips = 0
                    return move(&inner, to: .closed, reason: .probesSucceeded, now: now)
                }
                return nil
            default:
                return nil
            }
        }
        transition.map(onTransition)
    }

    /// Gives a permit back without an outcome: the call never reached the dependency, or
    /// failed on the caller's side (a client that left or sent its body too slowly, a wait
    /// for a local connection slot). It frees a half-open probe slot and says nothing about
    /// the dependency, so nobody can open a breaker by misbehaving as a client.
    public func release(_ permit: Permit) {
        inner.withLockedValue { inner in
            guard permit.generation == inner.generation, permit.isProbe, inner.state == .halfOpen else { return }
            inner.probesInFlight -= 1
        }
    }

    /// Runs `operation` through the breaker, timing it with the breaker's clock. Errors for
    /// which `isFailure` is false (a 404, a validation error) count as successes: the
    /// dependency answered.
    public func execute<T: Sendable>(
        isFailure: (any Error) -> Bool = { _ in true },
        _ operation: () async throws -> T
    ) async throws -> T {
        let permit = try acquire()
        let start = clock.now
        do {
            let value = try await operation()
            record(permit, outcome: .success, duration: clock.now - start)
            return value
        } catch {
            record(permit, outcome: isFailure(error) ? .failure : .success, duration: clock.now - start)
            throw error
        }
    }

    /// Input from the health registry.
    public func dependencyAvailabilityChanged(_ availability: ServiceAvailability) {
        let now = clock.now
        let transition = inner.withLockedValue { inner -> Transition? in
            switch (availability, inner.state) {
            case (.down, .closed), (.down, .halfOpen):
                return trip(&inner, reason: .healthDown, now: now)
            case (.up, .open):
                return move(&inner, to: .halfOpen, reason: .healthUp, now: now)
            default:
                return nil
            }
        }
        transition.map(onTransition)
    }

    /// Operator: refuse every call until ``reset()``.
    public func forceOpen() { operatorMove(to: .forcedOpen) }
    /// Operator: let every call through and record nothing until ``reset()``.
    public func disable() { operatorMove(to: .disabled) }
    /// Operator: back to closed with an empty window.
    public func reset() { operatorMove(to: .closed) }

    private func operatorMove(to state: State) {
        let now = clock.now
        let transition = inner.withLockedValue { inner -> Transition? in
            inner.consecutiveTrips = 0
            return inner.state == state ? nil : move(&inner, to: state, reason: .operatorAction, now: now)
        }
        transition.map(onTransition)
    }

    private func trip(_ inner: inout Inner, reason: Reason, now: Duration) -> Transition? {
        inner.consecutiveTrips += 1
        let wait = openDuration(afterTrips: inner.consecutiveTrips)
        inner.openUntil = now + wait
        return move(&inner, to: .open, reason: reason, now: now, openFor: wait)
    }

    /// The open period after `trips` consecutive trips: `openDuration · multiplier^(trips-1)`,
    /// at most `maxOpenDuration`. Computed in seconds as a `Double` and clamped before it
    /// becomes a `Duration`: `Duration` arithmetic traps on overflow, and a dependency that
    /// heartbeats `up` but fails every probe trips the breaker about once per heartbeat,
    /// for as long as the partial outage lasts.
    public func openDuration(afterTrips trips: Int) -> Duration {
        let cap = configuration.maxOpenDuration.seconds
        let base = configuration.openDuration.seconds
        let seconds = base * pow(configuration.openDurationMultiplier, Double(max(0, trips - 1)))
        guard seconds.isFinite, seconds < cap else { return configuration.maxOpenDuration }
        return .seconds(max(0, seconds))
    }

    private func move(_ inner: inout Inner, to state: State, reason: Reason, now: Duration, openFor: Duration? = nil) -> Transition? {
        let from = inner.state
        inner.state = state
        inner.generation += 1
        inner.probesInFlight = 0
        inner.probeSuccesses = 0
        if state == .closed || state == .disabled { inner.window = Window(size: configuration.windowSize) }
        return Transition(caller: caller, dependency: dependency, from: from, to: state, reason: reason, openFor: openFor)
    }

    private func refusal(retryAfter: Duration) -> CircuitOpenError {
        CircuitOpenError(dependency: dependency, retryAfter: max(retryAfter, .milliseconds(1)))
    }
}
