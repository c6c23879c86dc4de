import Prometheus
import Shared

/// AnalyticsService's own series on `/metrics`.
struct AnalyticsMetrics: Sendable {
    /// `analytics_points_accepted_total`: points acknowledged with 201.
    let pointsAccepted: Counter
    /// `analytics_points_rate_limited_total`: points refused with 429.
    let pointsRateLimited: Counter
    /// `analytics_summary_computations_total`: summaries computed from PostgreSQL.
    let computations: Counter
    /// `analytics_points_rolled_up_total`: points this instance moved into their buckets.
    let pointsRolledUp: Counter
    private let registry: PrometheusCollectorRegistry

    init(_ metrics: ServiceMetrics) {
        let registry = metrics.registry
        self.registry = registry
        pointsAccepted = registry.makeCounter(name: "analytics_points_accepted_total")
        pointsRateLimited = registry.makeCounter(name: "analytics_points_rate_limited_total")
        computations = registry.makeCounter(name: "analytics_summary_computations_total")
        pointsRolledUp = registry.makeCounter(name: "analytics_points_rolled_up_total")
    }

    /// `analytics_cache_requests_total{result, collapsed}`.
    func cache(_ outcome: SummaryCache.Outcome, collapsed: Bool) {
        registry.makeCounter(
            name: "analytics_cache_requests_total",
            labels: [("result", outcome.rawValue), ("collapsed", collapsed ? "true" : "false")]
        )
        .increment()
    }

    /// The writer's batching: requests written, the statements that carried them, requests
    /// waiting (`analytics_write_requests`, `…_statements`, `…_queued`).
    func track(_ writer: PointWriter, on metrics: ServiceMetrics) {
        let requests = registry.makeGauge(name: "analytics_write_requests")
        let batches = registry.makeGauge(name: "analytics_write_statements")
        let queued = registry.makeGauge(name: "analytics_write_queued")
        metrics.onScrape {
            let usage = writer.usage
            requests.set(Double(usage.items))
            batches.set(Double(usage.batches))
            queued.set(Double(usage.queued))
        }
    }
}
