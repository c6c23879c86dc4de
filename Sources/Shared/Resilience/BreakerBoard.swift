import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// The breakers one service holds for its dependencies, wired to the rest of the suite.
///
/// Every transition is logged, counted (`breaker_transitions_total`), reflected in the
/// `breaker_state` gauge, and published on `breaker.<caller>` for the dashboard. When a
/// breaker opens on its own call outcomes, a peer `down` report goes out on
/// `health.<dependency>` so the dependency's other callers open early. Breakers follow the
/// health registry: all instances down opens them, a fresh `up` lets a probe through.
public final class BreakerBoard: Sendable {
    public let caller: String
    private let registry: HealthRegistry?
    private let metrics: ServiceMetrics
    private let announcer: BreakerAnnouncer
    private let breakers = NIOLockedValueBox<[String: CircuitBreaker]>([:])

    /// - Parameter onTransition: called on every transition of any of these breakers.
    public init(
        caller: String,
        instance: String,
        redis: RedisClient?,
        registry: HealthRegistry?,
        metrics: ServiceMetrics,
        logger: Logger,
        onTransition: (@Sendable () -> Void)? = nil
    ) {
        self.caller = caller
        self.registry = registry
        self.metrics = metrics
        self.announcer = BreakerAnnouncer(caller: caller, instance: instance, redis: redis, metrics: metrics, logger: logger, observer: onTransition)
    }

    /// The breaker for `dependency`, made on first use.
    public func breaker<C: Clock>(
        for dependency: String,
        configuration: CircuitBreaker.Configuration = .init(),
        clock: C = ContinuousClock()
    ) -> CircuitBreaker where C.Duration == Duration {
        if let existing = breakers.withLockedValue({ $0[dependency] }) { return existing }
        // The breaker keeps the announcer (a value), not the board: the board may go away
        // once the service is wired, the breakers live on in the handlers.
        let announcer = self.announcer
        let breaker = CircuitBreaker(caller: caller, dependency: dependency, configuration: configuration, clock: clock) {
            transition in announcer.announce(transition)
        }
        let (stored, isNew) = breakers.withLockedValue { all -> (CircuitBreaker, Bool) in
            if let existing = all[dependency] { return (existing, false) }
            all[dependency] = breaker
            return (breaker, true)
        }
        if isNew {
            let gauge = metrics.registry.makeGauge(name: "breaker_state", labels: [("caller", caller), ("dependency", dependency)])
            metrics.onScrape { gauge.set(Self.gaugeValue(stored.state)) }
            registry?.observe(dependency) { _, availability in stored.dependencyAvailabilityChanged(availability) }
        }
        return stored
    }

    public var all: [CircuitBreaker] {
        breakers.withLockedValue { Array($0.values) }.sorted { $0.dependency < $1.dependency }
    }

    /// 0 closed, 1 half-open, 2 open, 3 forced open, -1 disabled.
    static func gaugeValue(_ state: CircuitBreaker.State) -> Double {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        case .forcedOpen: 3
        case .disabled: -1
        }
    }
}
