import Foundation
import Shared
import TestSupport
import Testing

/// The black-box probe of the security review: every keyed route of every service, spelled
/// every non-canonical way, without a key. None may answer 2xx; the canonical spelling
/// without a key must be 401 (so the route really is keyed), and with the key it works.
@Suite("Keyed route probes", .teardown)
struct KeyedRouteProbeTests {
    /// Sends `method path` without a key and returns the status line's code.
    static func status(port: Int, _ method: String, _ path: String, key: String? = nil, body: String? = nil) async throws -> Int {
        let body = body ?? (method == "GET" || method == "DELETE" ? "" : #"{"flag_name":"probe","name":"probe"}"#)
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        if let key { request += "X-Api-Key: \(key)\r\n" }
        request += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        let answer = try await RawHTTP.exchange(port: port, request)
        return Int(answer.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? -1
    }

    static func probe(port: Int, routes: [(String, String)], key: String, sentinelAbsent: () async throws -> Bool) async throws {
        for (method, path) in routes {
            #expect(try await status(port: port, method, path) == 401, "\(method) \(path) without a key")
            for spelling in NonCanonicalPaths.variants(of: path) {
                let code = try await status(port: port, method, spelling)
                #expect(!(200..<300).contains(code) && code != 304, "\(method) \(spelling) answered \(code) without a key")
            }
        }
        #expect(try await sentinelAbsent(), "a probe created something")
    }

    @Test func flagServiceRefusesEveryKeylessSpelling() async throws {
        // The probe itself makes hundreds of keyless requests: the refused-key limit is lifted
        // so that every answer is the route's own.
        let cluster = try await FlagCluster(environment: [
            "FLAGS_READ_ACCESS": "keyed", "FLAGS_EVALUATION_ACCESS": "keyed", "AUTH_FAILURE_LIMIT": "1000000/60",
        ])
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "existing"}"#).status == 201)
        let routes = [
            ("POST", "/flags"), ("GET", "/flags"), ("GET", "/flags/existing"), ("PUT", "/flags/existing"),
            ("PATCH", "/flags/existing"), ("DELETE", "/flags/existing"), ("GET", "/flags/existing/history"),
            ("POST", "/segments"), ("GET", "/segments"), ("GET", "/events"),
            ("GET", "/users/u1/flags/existing"), ("GET", "/users/u1/flags"),
            ("POST", "/ofrep/v1/evaluate/flags/existing"), ("POST", "/ofrep/v1/evaluate/flags"), ("GET", "/ofrep/v1/configuration"),
        ]
        try await Self.probe(port: cluster.first.port, routes: routes, key: FlagCluster.adminKey) {
            try await HTTP.get(cluster.first.baseURL + "/flags/probe", headers: cluster.admin).status == 404
        }
        // Still there and unchanged, and the canonical route with the key works.
        let existing = try await HTTP.get(cluster.first.baseURL + "/flags/existing", headers: cluster.admin)
        #expect(existing.status == 200 && existing.json?["version"] != nil)
        #expect(
            try await Self.status(port: cluster.first.port, "POST", "/flags/", key: FlagCluster.adminKey, body: #"{"flag_name": "slashed"}"#) == 201
        )
        // A client key may evaluate, under any spelling the router takes, but never write.
        #expect(try await Self.status(port: cluster.first.port, "GET", "/users/u1/flags/existing/", key: FlagCluster.clientKey) == 200)
        #expect(try await Self.status(port: cluster.first.port, "POST", "/flags/", key: FlagCluster.clientKey) == 403)
    }

    @Test func restrictionConsumerRefusesEveryKeylessSpelling() async throws {
        let cluster = try await RestrictionCluster(environment: ["AUTH_FAILURE_LIMIT": "1000000/60"])
        afterTest { await cluster.stop() }
        let routes = [("GET", "/users/u1/restrictions"), ("GET", "/rules"), ("GET", "/stream"), ("POST", "/rules/scam_messages/reset")]
        try await Self.probe(port: cluster.api.port, routes: routes, key: RestrictionCluster.adminKey) { true }
        #expect(try await Self.status(port: cluster.api.port, "GET", "/rules", key: RestrictionCluster.adminKey) == 200)
        // The fixed, open queries stay open.
        #expect(try await Self.status(port: cluster.api.port, "GET", "/canmessage?user_id=u1") == 200)
    }
}
