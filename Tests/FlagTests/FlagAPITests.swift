import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import FlagCore

/// What the README promises of FlagService's routes beyond the fixed contract, each on the
/// real `buildApplication` in process with a database of the test's own.
@Suite("Flag API")
struct FlagAPITests {
    static let admin: HTTPFields = [.apiKey: FlagRouteTests.adminKey]

    static func json(_ value: JSONValue) -> ByteBuffer { ByteBuffer(json: value) }

    @Test func keyedReadsPutDefinitionsHistoryAndEventsBehindTheAdminKey() async throws {
        let keyed = ["FLAGS_READ_ACCESS": "keyed", "AUTH_FAILURE_LIMIT": "1000000/60"]
        // The stream through a client with a deadline: let through, it would never end.
        try await FlagRouteTests.application(keyed).test(.live) { client in
            try await client.waitUntilReady()
            #expect(try await HTTP.get("http://127.0.0.1:\(try #require(client.port))/events", timeout: .seconds(5)).status == 401)
        }
        try await FlagRouteTests.application(keyed).test(.router) { client in
            try await client.waitUntilReady()
            #expect(
                try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(["flag_name": "f"])).status == .created
            )
            for path in ["/flags", "/flags/f", "/flags/f/history", "/segments"] {
                #expect(try await client.execute(uri: path, method: .get).status == .unauthorized, "GET \(path) without a key")
                for spelling in NonCanonicalPaths.variants(of: path) {
                    let code = try await client.execute(uri: spelling, method: .get).status.code
                    #expect(!(200..<300).contains(code), "GET \(spelling) answered \(code) without a key")
                }
            }
            #expect(try await client.execute(uri: "/flags/f", method: .get, headers: Self.admin).status == .ok)
            #expect(try await client.execute(uri: "/flags/f/history", method: .get, headers: Self.admin).status == .ok)
            // Evaluations stay open (FLAGS_EVALUATION_ACCESS is its own setting).
            #expect(try await client.execute(uri: "/users/u/flags/f", method: .get).json?["enabled"] == true)
        }
    }

    @Test func locationETagsHistoryLimitsAndSegmentHistory() async throws {
        try await FlagRouteTests.application().test(.router) { client in
            try await client.waitUntilReady()
            let created = try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(["flag_name": "f"]))
            #expect(created.status == .created && created.headers[.location] == "/flags/f")
            for percentage in [10, 20, 30] {
                let body = Self.json(["rollout_percentage": .number(Double(percentage))])
                #expect(try await client.execute(uri: "/flags/f", method: .put, headers: Self.admin, body: body).status == .ok)
            }
            let limited = try await client.execute(uri: "/flags/f/history?limit=2", method: .get)
            guard case .array(let entries)? = limited.json?["history"] else {
                Issue.record("\(String(buffer: limited.body))")
                return
            }
            #expect(entries.compactMap { $0["after"]?["rollout_percentage"] } == [30, 20], "newest first, two of four")
            #expect(try await client.execute(uri: "/flags/f/history?limit=0", method: .get).status == .unprocessableContent)

            // The list's ETag changes with any flag.
            let list = try await client.execute(uri: "/flags", method: .get)
            let etag = try #require(list.headers[.eTag])
            #expect(try await client.execute(uri: "/flags", method: .get, headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(
                try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(["flag_name": "g"])).status == .created
            )
            let changed = try await client.execute(uri: "/flags", method: .get, headers: [.ifNoneMatch: etag])
            #expect(changed.status == .ok && changed.headers[.eTag] != etag)

            let segment = try await client.execute(
                uri: "/segments",
                method: .post,
                headers: Self.admin,
                body: Self.json(["segment_name": "staff", "included": ["ann"]])
            )
            #expect(segment.status == .created && segment.headers[.location] == "/segments/staff")
            let widened = Self.json(["included": ["ann", "bob"]])
            #expect(try await client.execute(uri: "/segments/staff", method: .patch, headers: Self.admin, body: widened).status == .ok)
            let history = try await client.execute(uri: "/segments/staff/history", method: .get)
            guard case .array(let changes)? = history.json?["history"] else {
                Issue.record("\(String(buffer: history.body))")
                return
            }
            #expect(changes.compactMap { $0["action"] } == ["update", "create"])
            #expect(changes.first?["after"]?["included"] == ["ann", "bob"])
        }
    }

    @Test func patchReplacesWhatItSendsClearsNullsAndRefusesUnknownFields() async throws {
        try await FlagRouteTests.application().test(.router) { client in
            try await client.waitUntilReady()
            let flag: JSONValue = ["flag_name": "p", "description": "d", "rollout_percentage": 40, "off_variant": .null]
            #expect(try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(flag)).status == .created)
            let patched = try await client.execute(uri: "/flags/p", method: .patch, headers: Self.admin, body: Self.json(["description": .null]))
            #expect(patched.status == .ok)
            // Cleared: back to its default (an empty description).
            #expect(patched.json?["description"] == "", "\(String(buffer: patched.body))")
            #expect(patched.json?["rollout_percentage"] == 40, "a field not sent was changed")
            let reset = try await client.execute(uri: "/flags/p", method: .patch, headers: Self.admin, body: Self.json(["rollout_percentage": .null]))
            #expect(reset.json?["rollout_percentage"] == 100 && reset.json?["description"] == "")
            #expect(
                try await client.execute(uri: "/flags/p", method: .patch, headers: Self.admin, body: Self.json(["rollout_percentage": 40])).status
                    == .ok
            )
            let typo = try await client.execute(uri: "/flags/p", method: .patch, headers: Self.admin, body: Self.json(["rolout_percentage": 1]))
            #expect(typo.status == .unprocessableContent)
            #expect(try await client.execute(uri: "/flags/p", method: .get).json?["rollout_percentage"] == 40)
        }
    }

    /// A rule may serve a rollout of its own: the flag's fallthrough and the rule's share
    /// are independent (0 % and 100 % here, so the answer does not depend on any bucket).
    @Test func aRuleServesItsOwnRolloutPercentage() async throws {
        try await FlagRouteTests.application().test(.router) { client in
            try await client.waitUntilReady()
            let flag: JSONValue = [
                "flag_name": "r", "rollout_percentage": 100,
                "rules": [
                    ["conditions": [["attribute": "country", "operator": "eq", "values": ["FR"]]], "serve": ["rollout_percentage": 0]],
                    ["conditions": [["attribute": "country", "operator": "eq", "values": ["DE"]]], "serve": ["rollout_percentage": 100]],
                ],
            ]
            #expect(try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(flag)).status == .created)
            for user in ["alice123", "bob456", "u1", "u2", "u3"] {
                let france = try await client.execute(uri: "/users/\(user)/flags/r?country=FR", method: .get).json
                #expect(france?["enabled"] == false && france?["reason"] == "TARGETING_MATCH", "\(user)")
                let germany = try await client.execute(uri: "/users/\(user)/flags/r?country=DE", method: .get).json
                #expect(germany?["enabled"] == true && germany?["reason"] == "TARGETING_MATCH", "\(user)")
                #expect(try await client.execute(uri: "/users/\(user)/flags/r", method: .get).json?["reason"] == "DEFAULT")
            }
        }
    }

    @Test func theOFREPConfigurationDescribesTheProvider() async throws {
        try await FlagRouteTests.application().test(.router) { client in
            try await client.waitUntilReady()
            let configuration = try await client.execute(uri: "/ofrep/v1/configuration", method: .get)
            #expect(configuration.status == .ok)
            let capabilities = configuration.json?["capabilities"]
            #expect(capabilities?["cacheInvalidation"]?["polling"]?["enabled"] == true)
            #expect(capabilities?["flagEvaluation"]?["supportedTypes"] == ["boolean", "string", "int", "float", "object"])
        }
    }

    /// `/events?flags=a` carries changes of `a` only, and an idle stream gets comment lines
    /// every `FLAGS_SSE_KEEPALIVE_MS`, so proxies keep it open.
    @Test func eventStreamsNarrowToTheirFlagsAndKeepAlive() async throws {
        try await FlagRouteTests.application(["FLAGS_SSE_KEEPALIVE_MS": "100"]).test(.live) { client in
            try await client.waitUntilReady()
            let base = "http://127.0.0.1:\(try #require(client.port))"
            let narrowed = try await SSEClient(base + "/events?flags=a")
            #expect(await narrowed.events.waitFor { $0.event == "snapshot" } != nil)
            for name in ["b", "a"] {
                #expect(
                    try await client.execute(uri: "/flags", method: .post, headers: Self.admin, body: Self.json(["flag_name": .string(name)])).status
                        == .created
                )
            }
            #expect(await narrowed.events.waitFor { $0.event == "flag" && $0.data.contains(#""a""#) } != nil)
            #expect(!narrowed.events.all.contains { $0.data.contains(#""flag_name":"b""#) }, "\(narrowed.events.all)")

            var request = HTTPClientRequest(url: base + "/events")
            request.headers.add(name: "Accept", value: "text/event-stream")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            var text = ""
            var comments = 0
            for try await chunk in response.body {
                text += String(buffer: chunk)
                comments = text.components(separatedBy: "\n").filter { $0.hasPrefix(": keep-alive") }.count
                if comments >= 2 { break }
            }
            #expect(comments >= 2, "\(text.suffix(300))")
        }
    }
}
