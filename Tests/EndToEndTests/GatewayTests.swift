import Foundation
import NIOConcurrencyHelpers
import Shared
import TestSupport
import Testing

@Suite("Gateway", .teardown)
struct GatewayTests {
    let key = ["X-Api-Key": GatewayCluster.adminKey]

    /// Headers a client relies on; the rest (Date, the gateway's request id and rate-limit
    /// headers) legitimately differ.
    static let compared = ["content-type", "content-length", "etag", "x-fallback", "location", "retry-after"]

    func expectSame(_ direct: HTTP.Result, _ through: HTTP.Result, _ what: String) {
        #expect(through.status == direct.status, "\(what): status")
        #expect(through.body == direct.body, "\(what): \(through.text) ≠ \(direct.text)")
        for name in Self.compared {
            #expect(through.header(name) == direct.header(name), "\(what): \(name)")
        }
    }

    @Test func requestsReachEveryServiceAndComeBackByteIdentical() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let gateway = cluster.baseURL

        // Writes through the gateway land upstream (with the gateway's API key).
        let created = try await HTTP.post(
            gateway + "/flags/flags",
            json: #"{"flag_name": "gw-flag", "status": true, "rollout_percentage": 40}"#,
            headers: key
        )
        #expect(created.status == 201, "\(created.text)")
        let user = try await HTTP.post(gateway + "/social/profile/insert_new_user", json: #"{"user_name": "ada"}"#, headers: key)
        #expect(user.status == 201, "\(user.text)")
        let userID = user.json?["user_id"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? -1
        let post = try await HTTP.post(
            gateway + "/social/post/insert_post",
            json: #"{"user_id": \#(userID), "title": "t", "content": "c ✓"}"#,
            headers: key
        )
        #expect(post.status == 201, "\(post.text)")
        let postID = post.json?["post_id"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? -1
        let event = try await HTTP.post(
            gateway + "/restrictions/event",
            json: #"{"name": "scam_message_flagged", "event_properties": {"user_id": "gw-u"}}"#,
            headers: key
        )
        #expect(event.status == 200, "\(event.text)")

        let pairs: [(direct: String, through: String)] = [
            (cluster.flags.baseURL + "/flags/gw-flag", gateway + "/flags/flags/gw-flag"),
            (cluster.flags.baseURL + "/users/u-7/flags/gw-flag", gateway + "/flags/users/u-7/flags/gw-flag"),
            (cluster.flags.baseURL + "/flags/nope", gateway + "/flags/flags/nope"),
            (cluster.social.profile.baseURL + "/get_user_info?user_id=\(userID)", gateway + "/social/profile/get_user_info?user_id=\(userID)"),
            (cluster.social.profile.baseURL + "/get_user_info?user_id=999999", gateway + "/social/profile/get_user_info?user_id=999999"),
            (cluster.social.post.baseURL + "/get_post_info?post_id=\(postID)", gateway + "/social/post/get_post_info?post_id=\(postID)"),
            (cluster.social.feed.baseURL + "/fetch_feed", gateway + "/social/feed/fetch_feed"),
            (cluster.restrictions.baseURL + "/canpurchase?user_id=gw-u", gateway + "/restrictions/canpurchase?user_id=gw-u"),
            (cluster.restrictions.baseURL + "/canmessage", gateway + "/restrictions/canmessage"),
        ]
        for (direct, through) in pairs {
            expectSame(try await HTTP.get(direct), try await HTTP.get(through), through)
        }
        // The same for a refused write: the upstream's problem document, untouched.
        let body = #"{"flag_name": "gw-flag", "status": true}"#
        expectSame(
            try await HTTP.post(cluster.flags.baseURL + "/flags", json: body, headers: key),
            try await HTTP.post(gateway + "/flags/flags", json: body, headers: key),
            "duplicate flag"
        )

        // The client's request id comes back (what reaches the upstream, hop-by-hop headers
        // and forwarding headers, is checked in GatewayTests' "Gateway proxy").
        let traced = try await HTTP.get(gateway + "/flags/flags/gw-flag", headers: ["X-Request-Id": "trace-123"])
        #expect(traced.header("x-request-id") == "trace-123")
        #expect(try await HTTP.get(gateway + "/nowhere").status == 404)
        #expect(try await HTTP.get(gateway + "/flagsx/flags").status == 404)
    }

    @Test func writesNeedAKeyAndBodiesHaveALimit() async throws {
        let cluster = try await GatewayCluster(gatewayEnvironment: ["MAX_BODY_BYTES": "1024"])
        afterTest { await cluster.stop() }
        let gateway = cluster.baseURL
        let body = #"{"flag_name": "keyed", "status": true}"#
        let missing = try await HTTP.post(gateway + "/flags/flags", json: body)
        #expect(missing.status == 401 && missing.header("content-type") == "application/problem+json")
        #expect(try await HTTP.post(gateway + "/flags/flags", json: body, headers: ["X-Api-Key": "wrong"]).status == 403)
        #expect(try await HTTP.get(cluster.flags.baseURL + "/flags/keyed").status == 404)  // nothing reached the upstream
        let large = try await HTTP.post(
            gateway + "/flags/flags",
            json: "{\"description\": \"" + String(repeating: "x", count: 2000) + "\"}",
            headers: key
        )
        #expect(large.status == 413)
        #expect(try await HTTP.get(gateway + "/flags/flags").status == 200)  // reads need no key
    }

    @Test func theRateLimitAdmitsExactlyItsLimitThenAnswers429() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let limited = try await cluster.startGateway(environment: ["GATEWAY_RATE_LIMIT": "5/60"])
        let url = limited.baseURL + "/flags/flags"
        var statuses: [Int] = []
        var last: HTTP.Result?
        for _ in 0..<8 {
            let response = try await HTTP.get(url)
            statuses.append(response.status)
            last = response
        }
        #expect(statuses == [200, 200, 200, 200, 200, 429, 429, 429])
        let refused = try #require(last)
        #expect(refused.header("content-type") == "application/problem+json")
        #expect(refused.header("retry-after").flatMap(Int.init).map { $0 > 0 && $0 <= 12 } == true)
        #expect(refused.header("x-ratelimit-limit") == "5" && refused.header("x-ratelimit-remaining") == "0")
        #expect(refused.header("ratelimit-policy") == "\"gateway\";q=5;w=60")
        // A verified API key is a client of its own, with its own allowance.
        #expect(try await HTTP.get(url, headers: key).status == 200)
        // Each route has its own allowance per client: another route of the same gateway
        // still admits this client.
        #expect(try await HTTP.get(limited.baseURL + "/restrictions/canmessage?user_id=u").status == 200)
    }

    @Test func theDashboardShowsServicesBreakersAndHistory() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let everyone = ["flags", "restriction", "profile", "post", "feed", "gateway"]
        let allUp = await eventually(timeout: .seconds(10)) {
            guard case .array(let services)? = try await HTTP.get(cluster.baseURL + "/dashboard/state").json?["services"] else { return false }
            let up = services.compactMap { service -> String? in
                guard service["availability"] == "up", case .string(let name)? = service["service"] else { return nil }
                return name
            }
            return Set(everyone).isSubset(of: Set(up))
        }
        #expect(allUp)
        let page = try await HTTP.get(cluster.baseURL + "/dashboard")
        #expect(page.status == 200 && page.header("content-type")?.hasPrefix("text/html") == true && page.text.contains("EventSource"))

        // Profile killed: down, its callers' breakers open, and the SSE stream says so.
        let stream = try await SSEClient(cluster.baseURL + "/dashboard/events")
        #expect(stream.status == 200 && stream.contentType == "text/event-stream")
        cluster.social.profile.signal(SIGKILL)
        let seen = await stream.events.waitFor(timeout: .seconds(10)) { event in
            guard event.event == "state", let json = try? JSONValue.parse(Data(event.data.utf8)),
                case .array(let services)? = json["services"], case .array(let breakers)? = json["breakers"]
            else { return false }
            let profileDown = services.contains { $0["service"] == "profile" && $0["availability"] == "down" }
            let callersOpen = Set(
                breakers.compactMap { breaker -> String? in
                    guard breaker["dependency"] == "profile", breaker["state"] == "open", case .string(let caller)? = breaker["caller"] else {
                        return nil
                    }
                    return caller
                }
            )
            return profileDown && callersOpen.isSuperset(of: ["post", "feed"])
        }
        #expect(seen != nil, "the stream never showed Profile down with its callers' breakers open")
        guard case .array(let history)? = try await HTTP.get(cluster.baseURL + "/dashboard/state").json?["history"] else {
            Issue.record("no history")
            return
        }
        #expect(history.contains { $0["kind"] == "service" && $0["service"] == "profile" && $0["to"] == "down" })
        #expect(history.contains { $0["kind"] == "breaker" && $0["dependency"] == "profile" && $0["to"] == "open" })
    }
}

/// Exclusive (run alone, after the parallel pass): a refusal within 750 ms, and 40 requests
/// finishing before a frozen upstream's 3 s timeout, depend on the machine not being busy with
/// the rest of the suite.
@Suite("Gateway timing", .teardown)
struct ExclusiveGatewayTimingTests {
    @Test func aKilledUpstreamIsRefusedFastThenServedAgainWhenItReturns() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let user = try await HTTP.post(cluster.social.profile.baseURL + "/insert_new_user", json: #"{"user_name": "bo"}"#)
        let userID = user.json?["user_id"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? -1
        let url = cluster.baseURL + "/social/profile/get_user_info?user_id=\(userID)"
        #expect(try await HTTP.get(url).status == 200)

        cluster.social.profile.signal(SIGKILL)
        // Heartbeats stop; within three intervals the registry says down and the breaker opens.
        let opened = await eventually(timeout: .seconds(10)) { try await HTTP.get(url).status == 503 }
        #expect(opened)
        let refused = try await HTTP.get(url)
        #expect(refused.status == 503)
        #expect(refused.header("content-type") == "application/problem+json")
        #expect(refused.header("retry-after").flatMap(Int.init) != nil)
        // At once, not after the 3 s proxy timeout: the upstream is not even tried.
        #expect(refused.elapsed < .milliseconds(750), "\(refused.elapsed)")
        // Other upstreams are untouched.
        #expect(try await HTTP.get(cluster.baseURL + "/flags/flags").status == 200)

        try await cluster.social.restartProfile()
        let back = await eventually(timeout: .seconds(15)) { try await HTTP.get(url).status == 200 }
        #expect(back, "no traffic after Profile returned")
    }

    @Test func aSlowUpstreamDoesNotSlowTheOthers() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let profile = cluster.baseURL + "/social/profile/get_user_info?user_id=1"
        #expect(try await HTTP.get(profile).status != 503)
        // A frozen process keeps its socket: connections are accepted, nothing is answered.
        cluster.social.profile.signal(SIGSTOP)
        defer { cluster.social.profile.signal(SIGCONT) }
        let slow = NIOLockedValueBox<[Int]>([])
        var others: [Duration] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let status = try await HTTP.get(profile, timeout: .seconds(10)).status
                    slow.withLockedValue { $0.append(status) }
                }
            }
            // While those wait on the frozen upstream, every other route answers, at once.
            for i in 0..<20 {
                let flags = try await HTTP.get(cluster.baseURL + "/flags/users/u\(i)/flags/none")
                #expect(flags.status == 404)
                let restrictions = try await HTTP.get(cluster.baseURL + "/restrictions/canmessage?user_id=u\(i)")
                #expect(restrictions.status == 200)
                others += [flags.elapsed, restrictions.elapsed]
            }
            #expect(slow.withLockedValue { $0 }.isEmpty, "the other routes waited for the slow one")
            try await group.waitForAll()
        }
        // Far below the frozen upstream's 3 s route timeout.
        #expect(others.allSatisfy { $0 < .milliseconds(750) }, "\(others.max() ?? .zero)")
        // The frozen upstream's requests ended at the route timeout, as 504s or, once the
        // breaker counted them, 503s (problem documents both); they did not hang.
        let statuses = slow.withLockedValue { $0 }
        #expect(statuses.count == 4 && statuses.allSatisfy { [503, 504].contains($0) }, "\(statuses)")
        #expect(statuses.contains(504), "no request waited for the route timeout: \(statuses)")
    }
}
