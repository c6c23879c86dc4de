import NIOConcurrencyHelpers
import Shared

/// Picks the instance a request goes to: round robin over the instances the health registry
/// knows to be up (their heartbeats say where they listen), else over the route's configured
/// URLs, so a gateway without Redis still routes.
///
/// The registry's view is read at most every `refresh`, not per request: it takes a lock
/// and a sort, and a heartbeat interval is hundreds of milliseconds anyway.
public final class UpstreamBalancer: Sendable {
    private struct Cached {
        var urls: [String]
        var readAt: Duration
    }

    private let registry: HealthRegistry?
    private let clock: ClockReading
    private let refresh: Duration
    private let cache = NIOLockedValueBox<[String: Cached]>([:])
    private let counter = NIOLockedValueBox(0)

    public init<C: Clock>(registry: HealthRegistry?, clock: C = ContinuousClock(), refresh: Duration = .milliseconds(100)) where C.Duration == Duration {
        self.registry = registry
        self.clock = ClockReading(clock)
        self.refresh = refresh
    }

    /// The instances to try for `route`, in the order to try them.
    public func candidates(for route: GatewayRoute) -> [String] {
        let known = knownURLs(of: route.service)
        let urls = known.isEmpty ? route.urls : known
        guard urls.count > 1 else { return urls }
        let start = counter.withLockedValue { counter in
            defer { counter &+= 1 }
            return counter
        }
        let offset = start % urls.count
        return Array(urls[offset...] + urls[..<offset])
    }

    private func knownURLs(of service: String) -> [String] {
        guard let registry else { return [] }
        let now = clock.now
        if let cached = cache.withLockedValue({ $0[service] }), now - cached.readAt < refresh { return cached.urls }
        let urls = registry.upURLs(of: service)
        cache.withLockedValue { $0[service] = Cached(urls: urls, readAt: now) }
        return urls
    }
}
