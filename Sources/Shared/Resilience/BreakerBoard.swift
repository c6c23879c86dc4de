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

    public init(caller: String, instance: String, redis: RedisClient?, registry: HealthRegistry?, metrics: ServiceMetrics, logger: Logger) {
        self.caller = caller
        self.registry = registry
        self.metrics = metrics
        self.announcer = BreakerAnnouncer(caller: caller, instance: instance, redis: redis, metrics: metrics, logger: logger)
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

/// Logs, counts and publishes a breaker's transitions.
struct BreakerAnnouncer: Sendable {
    let caller: String
    let instance: String
    let redis: RedisClient?
    let metrics: ServiceMetrics
    let logger: Logger

    func announce(_ transition: CircuitBreaker.Transition) {
        logger.notice(
            "breaker transition",
            metadata: [
                "breaker.dependency": "\(transition.dependency)",
                "breaker.from": "\(transition.from.rawValue)",
                "breaker.to": "\(transition.to.rawValue)",
                "breaker.reason": "\(transition.reason.rawValue)",
            ]
        )
        metrics.registry.makeCounter(
            name: "breaker_transitions_total",
            labels: [
                ("caller", caller), ("dependency", transition.dependency), ("to", transition.to.rawValue),
            ]
        ).increment()
        guard let redis else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let event = BreakerEvent(
            caller: caller,
            instance: instance,
            dependency: transition.dependency,
            from: transition.from,
            to: transition.to,
            reason: transition.reason,
            at: now
        )
        let peerReport: HealthMessage? =
            transition.to == .open && transition.reason != .healthDown
            ? HealthMessage(service: transition.dependency, instance: "*", status: .down, source: .peer, reporter: caller, at: now)
            : nil
        let logger = self.logger
        Task {
            do {
                let encoder = JSONEncoder()
                try await redis.publish("breaker.\(caller)", Array(try encoder.encode(event)))
                if let peerReport {
                    try await redis.publish(HealthMessage.channel(for: transition.dependency), Array(try encoder.encode(peerReport)))
                }
            } catch {
                logger.debug("breaker transition not published", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// What goes out on `breaker.<caller>`.
public struct BreakerEvent: Codable, Sendable, Equatable {
    public var caller: String
    public var instance: String
    public var dependency: String
    public var from: CircuitBreaker.State
    public var to: CircuitBreaker.State
    public var reason: CircuitBreaker.Reason
    /// Unix milliseconds.
    public var at: Int64
}
