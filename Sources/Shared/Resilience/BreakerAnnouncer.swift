import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// Logs, counts and publishes a breaker's transitions.
struct BreakerAnnouncer: Sendable {
    let caller: String
    let instance: String
    let redis: RedisClient?
    let metrics: ServiceMetrics
    let logger: Logger
    /// Told of every transition (the service's health reporter re-runs its checks, some of
    /// which are breaker states).
    let observer: (@Sendable () -> Void)?

    func announce(_ transition: CircuitBreaker.Transition) {
        observer?()
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
