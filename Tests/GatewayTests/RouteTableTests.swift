import Foundation
import Shared
import TestSupport
import Testing

@testable import GatewayCore

@Suite("Gateway routes")
struct RouteTableTests {
    private func table(_ env: [String: String] = [:]) throws -> RouteTable {
        try RouteTable.load(EnvironmentReader(env), maxBodyBytes: 1024)
    }

    @Test func theDefaultsCoverEveryServiceAndTakeTheirURLs() throws {
        let routes = try table(["PROFILE_URL": "http://10.0.0.5:9000,http://10.0.0.6:9000", "GATEWAY_RATE_LIMIT": "7/2"])
        #expect(Set(routes.routes.map(\.service)) == ["flags", "restriction", "analytics", "stream", "profile", "post", "feed"])
        let profile = try #require(routes.match("/social/profile/users/1")?.route)
        #expect(profile.urls == ["http://10.0.0.5:9000", "http://10.0.0.6:9000"])
        #expect(profile.rateLimit?.limit == 7)
        #expect(profile.rateLimit?.period == .seconds(2))
        #expect(routes.match("/flags")?.route.urls == ["http://127.0.0.1:8081"])
        #expect(try table(["GATEWAY_RATE_LIMIT": "off"]).routes.allSatisfy { $0.rateLimit == nil })
    }

    @Test func prefixesMatchWholeSegmentsAndTheLongestWins() throws {
        let routes = RouteTable([
            GatewayRoute(prefix: "/social", service: "social", urls: []),
            GatewayRoute(prefix: "/social/profile", service: "profile", urls: []),
        ])
        #expect(routes.match("/social/profile/users/1")?.route.service == "profile")
        #expect(routes.match("/social/profile/users/1")?.upstreamPath == "/users/1")
        #expect(routes.match("/social/profile")?.upstreamPath == "/")
        #expect(routes.match("/social/profiles")?.route.service == "social")
        #expect(routes.match("/social/profiles")?.upstreamPath == "/profiles")
        #expect(routes.match("/socialist") == nil)
        #expect(routes.match("/") == nil)
    }

    @Test func aRoutesFileOverridesDefaultsPerRoute() throws {
        var defaults = RouteDefaults(timeout: .seconds(10), retries: 1, keysOnWrites: true, rateLimit: nil, maxBodyBytes: 1024)
        let json = try JSONValue.parse(
            Data(
                """
                {"defaults": {"timeout_ms": 2000, "rate_limit": {"limit": 5, "period_s": 1}},
                 "routes": [{"prefix": "/a/", "service": "a", "urls": ["http://127.0.0.1:1/"], "retries": 0},
                            {"prefix": "/b", "service": "b", "rate_limit": null, "keys_on_writes": false}]}
                """.utf8
            )
        )
        let routes = try RouteTable(json: json, defaults: &defaults)
        let a = try #require(routes.match("/a/x")?.route)
        #expect(a.prefix == "/a")
        #expect(a.urls == ["http://127.0.0.1:1"])
        #expect(a.timeout == .seconds(2))
        #expect(a.retries == 0)
        #expect(a.rateLimit?.limit == 5)
        let b = try #require(routes.match("/b")?.route)
        #expect(b.retries == 1)
        #expect(b.rateLimit == nil)
        #expect(!b.keysOnWrites)
    }

    @Test(arguments: [
        (#"{"routes": []}"#, "routes"),
        (#"{"routes": [{"prefix": "a", "service": "a"}]}"#, "routes[0].prefix"),
        (#"{"routes": [{"prefix": "/a"}]}"#, "routes[0].service"),
        (#"{"routes": [{"prefix": "/a", "service": "a", "urls": ["ftp://x"]}]}"#, "routes[0].urls"),
        (#"{"routes": [{"prefix": "/a", "service": "a", "retries": 9}]}"#, "routes[0].retries"),
        (#"{"routes": [{"prefix": "/a", "service": "a"}, {"prefix": "/a/", "service": "b"}]}"#, "unique"),
        (#"{"defaults": {"rate_limit": {"limit": 0, "period_s": 1}}, "routes": [{"prefix": "/a", "service": "a"}]}"#, "defaults.rate_limit"),
        (#"{"defaults": {"rate_limit": {"limit": 1e300, "period_s": 1}}, "routes": [{"prefix": "/a", "service": "a"}]}"#, "defaults.rate_limit"),
        (#"{"routes": [{"prefix": "/a", "service": "a", "rate_limit": {"limit": 5, "period_s": 1e300}}]}"#, "rate_limit"),
    ])
    func badRouteFilesAreRefusedNamingTheField(_ text: String, _ field: String) throws {
        var defaults = RouteDefaults(timeout: .seconds(10), retries: 1, keysOnWrites: true, rateLimit: nil, maxBodyBytes: 1024)
        let json = try JSONValue.parse(Data(text.utf8))
        #expect {
            try RouteTable(json: json, defaults: &defaults)
        } throws: { error in
            (error as? RouteTableError)?.description.contains(field) == true
        }
    }

    @Test(arguments: ["100", "0/1", "5/0", "x/1", "5/1/2", "1.5/1", "1e300/1", "5/1e300", "5/nan", "-1/1"])
    func badRateLimitsAreRefused(_ text: String) {
        #expect(throws: RouteTableError.self) { try RouteTable.parseRate(text) }
    }

    @Test func withoutARegistryTheBalancerRotatesOverTheConfiguredURLs() {
        let balancer = UpstreamBalancer(registry: nil, allowed: nil)
        let route = GatewayRoute(prefix: "/p", service: "p", urls: ["http://a", "http://b", "http://c"])
        let firsts = (0..<6).map { _ in balancer.candidates(for: route) }
        #expect(firsts.map { $0.first! } == ["http://a", "http://b", "http://c", "http://a", "http://b", "http://c"])
        #expect(firsts.allSatisfy { Set($0) == ["http://a", "http://b", "http://c"] })
    }
}

@Suite("Gateway upstream hosts")
struct UpstreamHostsTests {
    /// A heartbeat is anyone's who can write to Redis: an instance advertised on a host
    /// that is not allowed never receives traffic (and so never the clients' credentials).
    @Test func advertisedInstancesOnOtherHostsAreIgnored() throws {
        let clock = TestClock()
        let registry = HealthRegistry(interval: .milliseconds(100), clock: clock)
        registry.channelRestored()
        for (instance, url) in [
            ("a", "http://127.0.0.1:9001"), ("evil", "http://attacker.example:80"), ("file", "file:///etc/passwd"), ("net", "http://10.1.2.3:9"),
        ] {
            registry.ingest(HealthMessage(service: "p", instance: instance, status: .up, at: 0, url: url))
        }
        let route = GatewayRoute(prefix: "/p", service: "p", urls: ["http://127.0.0.1:8000"])
        let table = RouteTable([route])
        let byDefault = UpstreamBalancer(registry: registry, allowed: try .init(table.configuredHosts), clock: clock)
        #expect(byDefault.candidates(for: route) == ["http://127.0.0.1:9001"])
        let networks = UpstreamBalancer(registry: registry, allowed: try .init(["10.0.0.0/8"]), clock: clock)
        #expect(networks.candidates(for: route) == ["http://10.1.2.3:9"])
        let none = UpstreamBalancer(registry: registry, allowed: try .init(["gateway.internal"]), clock: clock)
        #expect(none.candidates(for: route) == ["http://127.0.0.1:8000"])  // the configured URL, not a forged one
    }
}
