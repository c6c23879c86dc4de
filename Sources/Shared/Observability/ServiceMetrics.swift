import NIOConcurrencyHelpers
import Prometheus

/// One service's metrics, in its own Prometheus registry (no process-wide metrics
/// bootstrap), rendered by `GET /metrics`.
///
/// HTTP metrics are recorded by the observability middleware; components register gauges
/// that are read at scrape time (pool usage, breaker states) with ``onScrape(_:)``.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let collectors = NIOLockedValueBox<[@Sendable () -> Void]>([])
    private let requestMetrics = NIOLockedValueBox<[RouteKey: (Counter, DurationHistogram)]>([:])

    private struct RouteKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Runs `collector` before each scrape, to bring gauges up to date.
    public func onScrape(_ collector: @escaping @Sendable () -> Void) {
        collectors.withLockedValue { $0.append(collector) }
    }

    /// The registry in the Prometheus text format.
    public func render() -> [UInt8] {
        for collector in collectors.withLockedValue({ $0 }) { collector() }
        return registry.emitToBuffer()
    }

    /// Records one answered request.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let key = RouteKey(route: route, method: method, status: status)
        let (counter, histogram) = requestMetrics.withLockedValue { cache in
            if let metrics = cache[key] { return metrics }
            let labels = [("route", route), ("method", method), ("status", String(status))]
            let metrics = (
                registry.makeCounter(name: "http_requests_total", labels: labels),
                registry.makeDurationHistogram(
                    name: "http_request_duration_seconds",
                    labels: labels,
                    buckets: [
                        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
                    ]
                )
            )
            cache[key] = metrics
            return metrics
        }
        counter.increment()
        histogram.record(duration)
    }

    /// Gauges for a connection pool: open, leased and waiting.
    public func trackPool<C>(_ name: String, _ pool: @escaping @Sendable () -> BlockingConnectionPool<C>.Usage) {
        let open = registry.makeGauge(name: "pool_connections_open", labels: [("pool", name)])
        let leased = registry.makeGauge(name: "pool_connections_leased", labels: [("pool", name)])
        let waiting = registry.makeGauge(name: "pool_waiters", labels: [("pool", name)])
        onScrape {
            let usage = pool()
            open.set(Double(usage.open))
            leased.set(Double(usage.leased))
            waiting.set(Double(usage.waiting))
        }
    }

    /// The server's client connections: a gauge of those open, and counters of those refused
    /// at the cap and closed by a timeout (brought up to the counter's totals at each scrape).
    public func trackConnections(_ connections: ConnectionCounter) {
        let open = registry.makeGauge(name: "http_connections_open", labels: [])
        let refused = registry.makeCounter(name: "http_connections_refused_total", labels: [])
        let timedOut = registry.makeCounter(name: "http_connections_timed_out_total", labels: [])
        let reported = NIOLockedValueBox((refused: 0, timedOut: 0))
        onScrape {
            open.set(Double(connections.open))
            // Read under the lock, so that concurrent scrapes never add a negative step.
            let (newlyRefused, newlyTimedOut) = reported.withLockedValue { last in
                let now = (refused: max(last.refused, connections.refused), timedOut: max(last.timedOut, connections.timedOut))
                defer { last = now }
                return (now.refused - last.refused, now.timedOut - last.timedOut)
            }
            refused.increment(by: Int64(newlyRefused))
            timedOut.increment(by: Int64(newlyTimedOut))
        }
    }
}
