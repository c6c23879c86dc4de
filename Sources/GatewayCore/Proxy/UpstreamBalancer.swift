import Foundation
import NIOConcurrencyHelpers
import Shared

/// Picks the instance a request goes to: round robin over the instances the health registry
/// knows to be up (their heartbeats say where they listen), else over the route's configured
/// URLs, so a gateway without Redis still routes.
///
/// The registry's view is read at most every `refresh`, not per request: it takes a lock
/// and a sort, and a heartbeat interval is hundreds of milliseconds anyway.
///
/// Heartbeats come from Redis, which anyone who can write to it can forge: an advertised URL
/// is used only when it is `http(s)` and its host is allowed (``AllowedHosts``), since the
/// gateway forwards clients' credentials (`X-Api-Key`, `Authorization`, `Cookie`) to it.
final class UpstreamBalancer: Sendable {
    /// The hosts an advertised instance may be on: `GATEWAY_UPSTREAM_HOSTS` (host names, IP
    /// addresses or CIDR networks, comma separated), by default the hosts of the route
    /// table's configured URLs.
    struct AllowedHosts: Sendable {
        let names: Set<String>
        let networks: TrustedProxies

        init(_ entries: [String]) throws {
            var names = Set<String>()
            var networks: [String] = []
            for entry in entries {
                let bare = entry.lowercased()
                if TrustedProxies.bytes(bare.split(separator: "/").first.map(String.init) ?? bare) != nil {
                    networks.append(bare)
                } else {
                    names.insert(bare)
                }
            }
            self.names = names
            self.networks = try TrustedProxies(parsing: networks)
        }

        func allows(_ url: String) -> Bool {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), let host = Self.host(url) else { return false }
            return names.contains(host) || networks.contains(host)
        }

        static func host(_ url: String) -> String? {
            guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
            return host.lowercased()
        }
    }

    private struct Cached {
        var urls: [String]
        var readAt: Duration
    }

    private let registry: HealthRegistry?
    private let allowed: AllowedHosts?
    private let clock: ClockReading
    private let refresh: Duration
    private let cache = NIOLockedValueBox<[String: Cached]>([:])
    private let counter = NIOLockedValueBox(0)

    /// - Parameter allowed: nil allows every advertised host (tests of the balancing alone).
    init<C: Clock>(registry: HealthRegistry?, allowed: AllowedHosts?, clock: C = ContinuousClock(), refresh: Duration = .milliseconds(100))
    where C.Duration == Duration {
        self.registry = registry
        self.allowed = allowed
        self.clock = ClockReading(clock)
        self.refresh = refresh
    }

    /// The instances to try for `route`, in the order to try them.
    func candidates(for route: GatewayRoute) -> [String] {
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
        let urls = registry.upURLs(of: service).filter { allowed?.allows($0) ?? true }
        cache.withLockedValue { $0[service] = Cached(urls: urls, readAt: now) }
        return urls
    }
}
