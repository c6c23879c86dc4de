import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// What the gateway shows of the suite behind it: no upstream's health, metrics or API
/// description through a public route, and the dashboard only with an admin key. On the real
/// `buildApplication`, in front of a live upstream that counts what reached it.
@Suite("Gateway front door", .teardown)
struct GatewayFrontDoorTests {
    static let adminKey = "front-door-admin"

    /// Every route's upstream URL set to `url`.
    static func everyRoute(to url: String) -> [String: String] {
        Dictionary(RouteTable.defaultPrefixes.map { ($0.urlVariable, url) }) { first, _ in first }
    }

    /// Spellings of `internal` under `prefix` a router might take for it: the suite's
    /// non-canonical variants of the whole path, plus case, escapes and a trailing slash in
    /// the internal part alone (what passes the gateway's own canonical-path check).
    static func spellings(_ prefix: String, _ kept: String) -> [String] {
        let escaped = "/%" + String(kept.utf8.dropFirst().first!, radix: 16) + kept.dropFirst(2)
        return NonCanonicalPaths.variants(of: prefix + kept) + [
            prefix + kept, prefix + kept + "/", prefix + kept.uppercased(), prefix + escaped,
            prefix + kept + "?x=1", prefix + kept + "/sub",
        ]
    }

    @Test func upstreamInternalsAreNeverForwarded() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = GatewayProxyTests.Echo("a")
        try await echo.application().test(.live) { upstream in
            let url = try GatewayProxyTests.url(upstream.port)
            let gateway = try GatewayProxyTests.gateway(flagURLs: [url], redis: redis, Self.everyRoute(to: url))
            try await gateway.test(.router) { client in
                var tried = 0
                // `/flags/ofrep/metrics` is `/ofrep/metrics` upstream, OFREP's, not internal.
                for entry in RouteTable.defaultPrefixes where entry.prefix != "/flags/ofrep" {
                    for kept in ["/metrics", "/health", "/health/live", "/health/ready", "/openapi.json"] {
                        for path in Self.spellings(entry.prefix, kept) {
                            let answer = try await client.execute(uri: path, method: .get)
                            #expect([400, 404].contains(answer.status.code), "GET \(path) answered \(answer.status.code)")
                            tried += 1
                        }
                    }
                }
                #expect(tried > 500)
                #expect(echo.served.withLockedValue { $0 } == 0, "an internal path reached the upstream")

                // Paths that only look alike are the upstream's public API and pass.
                for (path, upstreamPath) in [
                    ("/analytics/api/metrics/summary", "/api/metrics/summary"), ("/flags/flags/metrics", "/flags/metrics"),
                    ("/flags/healthy", "/healthy"), ("/social/feed/openapi.json.txt", "/openapi.json.txt"),
                ] {
                    let answer = try await client.execute(uri: path, method: .get)
                    #expect(answer.status == .ok && answer.json?["path"] == .string(upstreamPath), "GET \(path): \(answer.status)")
                }
                // The gateway's own stay where they are.
                #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .ok)
            }
        }
    }

    @Test func aRouteMayExposeWhatItChooses() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let echo = GatewayProxyTests.Echo("a")
        try await echo.application().test(.live) { upstream in
            let url = try GatewayProxyTests.url(upstream.port)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("routes") + ".json")
            afterTest { try? FileManager.default.removeItem(at: file) }
            let table: JSONValue = [
                "routes": [
                    ["prefix": "/open", "service": "flags", "urls": [.string(url)], "internal_paths": []],
                    ["prefix": "/some", "service": "flags", "urls": [.string(url)], "internal_paths": ["/metrics"]],
                ]
            ]
            try Data(ByteBuffer(json: table).readableBytesView).write(to: file)
            let gateway = try GatewayProxyTests.gateway(flagURLs: [url], redis: redis, ["GATEWAY_ROUTES_FILE": file.path])
            try await gateway.test(.router) { client in
                let exposed = try await client.execute(uri: "/open/metrics", method: .get)
                #expect(exposed.json?["path"] == "/metrics")
                let kept = try await client.execute(uri: "/some/metrics", method: .get)
                #expect(kept.status == .notFound)
                let other = try await client.execute(uri: "/some/health", method: .get)
                #expect(other.json?["path"] == "/health")
            }
            #expect(throws: (any Error).self) {
                let bad: JSONValue = ["routes": [["prefix": "/x", "service": "flags", "urls": [.string(url)], "internal_paths": ["metrics"]]]]
                try Data(ByteBuffer(json: bad).readableBytesView).write(to: file)
                _ = try GatewayProxyTests.gateway(flagURLs: [url], redis: redis, ["GATEWAY_ROUTES_FILE": file.path])
            }
        }
    }

    @Test func theDashboardNeedsAnAdminKeyUnlessOpen() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let keyed = try GatewayProxyTests.gateway(flagURLs: ["http://127.0.0.1:1"], redis: redis, ["GATEWAY_API_KEYS": Self.adminKey])
        try await keyed.test(.router) { client in
            for path in ["/dashboard", "/dashboard/state", "/dashboard/events"] {
                let bare = try await client.execute(uri: path, method: .get)
                #expect(bare.status == .unauthorized, "\(path)")
                #expect(bare.headers[.wwwAuthenticate]?.hasPrefix("Basic ") == true, "a browser is not asked for credentials")
                #expect(bare.headers[.contentType] == "application/problem+json")
                #expect(try await client.execute(uri: path, method: .get, headers: [.apiKey: "wrong"]).status == .forbidden)
                for spelling in NonCanonicalPaths.variants(of: path) {
                    let code = try await client.execute(uri: spelling, method: .get).status.code
                    #expect(!(200..<300).contains(code), "GET \(spelling) answered \(code) without a key")
                }
            }
            for path in ["/dashboard", "/dashboard/state"] {
                #expect(try await client.execute(uri: path, method: .get, headers: [.apiKey: Self.adminKey]).status == .ok)
                let basic = "Basic " + Data("admin:\(Self.adminKey)".utf8).base64EncodedString()
                #expect(try await client.execute(uri: path, method: .get, headers: [.authorization: basic]).status == .ok)
                let wrong = "Basic " + Data("admin:nope".utf8).base64EncodedString()
                #expect(try await client.execute(uri: path, method: .get, headers: [.authorization: wrong]).status == .forbidden)
            }
            // Health stays open: orchestrators probe it without keys.
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
        }
        let open = try GatewayProxyTests.gateway(
            flagURLs: ["http://127.0.0.1:1"],
            redis: redis,
            ["GATEWAY_API_KEYS": Self.adminKey, "GATEWAY_DASHBOARD_AUTH": "open"]
        )
        try await open.test(.router) { client in
            let state = try await client.execute(uri: "/dashboard/state", method: .get)
            #expect(state.status == .ok)
        }
        #expect(throws: (any Error).self) {
            try GatewayConfiguration(environment: TestEnvironment.serviceEnvironment(["GATEWAY_DASHBOARD_AUTH": "maybe"]))
        }
    }
}
