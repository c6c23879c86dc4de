import Prometheus
import Shared

/// StreamFilter's own series on `/metrics`. The first seven keep the older service's names,
/// so its dashboards keep working.
struct StreamMetrics: Sendable {
    let eventsRead: Counter
    let eventsMatched: Counter
    let eventsRouted: Counter
    let redisFailures: Counter
    let eventsSent: Counter
    let replayed: Counter
    let resumes: Counter
    let notRecovered: Counter
    let deliveryLatency: DurationHistogram
    private let registry: PrometheusCollectorRegistry

    init(_ metrics: ServiceMetrics) {
        let registry = metrics.registry
        self.registry = registry
        eventsRead = registry.makeCounter(name: "events_read_total")
        eventsMatched = registry.makeCounter(name: "events_matched_total")
        eventsRouted = registry.makeCounter(name: "events_routed_total")
        redisFailures = registry.makeCounter(name: "redis_failures_total")
        eventsSent = registry.makeCounter(name: "events_sent_total")
        replayed = registry.makeCounter(name: "stream_replayed_total")
        resumes = registry.makeCounter(name: "stream_resumes_total")
        notRecovered = registry.makeCounter(name: "stream_not_recovered_total")
        deliveryLatency = registry.makeDurationHistogram(
            name: "stream_delivery_latency_seconds",
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            ]
        )
    }

    /// `stream_disconnects_total{reason}`, by ``DeliveryConnection/CloseReason``.
    func disconnect(_ reason: DeliveryConnection.CloseReason) {
        registry.makeCounter(name: "stream_disconnects_total", labels: [("reason", reason.label)]).increment()
    }

    /// `active_websocket_connections`, `active_streams_count` (subscribers with a live
    /// connection here), and the queues' depth, read at scrape time.
    func track(_ hub: SubscriberHub, on metrics: ServiceMetrics) {
        let connections = registry.makeGauge(name: "active_websocket_connections")
        let sse = registry.makeGauge(name: "active_sse_connections")
        let streams = registry.makeGauge(name: "active_streams_count")
        let queued = registry.makeGauge(name: "stream_queue_depth")
        let deepest = registry.makeGauge(name: "stream_queue_depth_max")
        metrics.onScrape {
            let usage = hub.usage
            connections.set(Double(usage.webSockets))
            sse.set(Double(usage.eventStreams))
            streams.set(Double(usage.subscribers))
            queued.set(Double(usage.queued))
            deepest.set(Double(usage.deepestQueue))
        }
    }
}
