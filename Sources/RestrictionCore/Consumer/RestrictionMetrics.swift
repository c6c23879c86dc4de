import Prometheus
import Shared

/// The consumer's counters on `/metrics`.
public struct RestrictionMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    public init(_ metrics: ServiceMetrics) {
        registry = metrics.registry
    }

    /// `restrictions_events_total{outcome}`: applied, duplicate, deferred, dead_lettered, failed.
    func events(_ outcome: String, _ count: Int = 1) {
        guard count > 0 else { return }
        registry.makeCounter(name: "restrictions_events_total", labels: [("outcome", outcome)]).increment(by: Int64(count))
    }

    /// `restrictions_rule_outcomes_total{rule, outcome}`: restricted, held (by a tripped
    /// rule), tripped (the tripwire went off), rearmed.
    func rule(_ rule: String, _ outcome: String) {
        registry.makeCounter(name: "restrictions_rule_outcomes_total", labels: [("rule", rule), ("outcome", outcome)]).increment()
    }
}
