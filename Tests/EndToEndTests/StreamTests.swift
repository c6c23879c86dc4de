import Foundation
import Shared
import TestSupport
import Testing

/// StreamFilter as operators run it: real processes, a real Redis and PostgreSQL, real
/// WebSocket and SSE clients. Thousands of events through debug builds of several processes
/// load both cores, so the suite runs in the serial "Exclusive" pass, where it does not starve
/// the parallel pass's timed waits.
@Suite("Exclusive StreamFilter flows", .teardown)
struct ExclusiveStreamFlowTests {
    /// The older README's flow: its filter, 1,000 mixed events; the client receives exactly
    /// the matching ones, each user's in order, and nothing else.
    @Test(.timeLimit(.minutes(2)))
    func theOlderReadmeFlowDeliversExactlyTheMatches() async throws {
        let cluster = try await StreamCluster()
        afterTest { await cluster.stop() }
        let created = try await cluster.createFilter(StreamTraffic.readmeFilter)
        #expect(created.json?["subscriber_id"] == "user_1" && created.json?["min_amount"] == 100)
        let socket = cluster.socket("user_1")
        afterTest { await socket.close() }
        try await Self.waitUntilLive(socket, cluster)
        let events = StreamTraffic.mixed(1_000)
        let expected = events.filter(StreamTraffic.readmeMatches)
        #expect(expected.count > 20 && expected.count < 200, "the mix must exercise the filter: \(expected.count)")
        try await cluster.produce(events)
        try await Self.waitForProbes(socket, cluster, round: 1)
        let problems = StreamTraffic.problems(received: socket.events, expected: expected)
        #expect(problems.isEmpty, "\(problems)")
    }

    /// The same flow through the gateway (`/stream/ws/{subscriber_id}`), on a connection
    /// beside a direct one: both receive exactly the matches.
    @Test(.timeLimit(.minutes(2)))
    func theSameFlowThroughTheGateway() async throws {
        let cluster = try await StreamCluster()
        afterTest { await cluster.stop() }
        let gateway = try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: ["REDIS_URL": cluster.redis.url, "STREAM_URL": cluster.first.baseURL, "GATEWAY_RATE_LIMIT": "off"]
        )
        afterTest {
            gateway.signal(SIGTERM)
            _ = await gateway.waitForExit()
        }
        try await cluster.createFilter(StreamTraffic.readmeFilter)
        let proxied = StreamSocket("ws://127.0.0.1:\(gateway.port)/stream/ws/user_1")
        let direct = cluster.socket("user_1")
        afterTest {
            await proxied.close()
            await direct.close()
        }
        try await Self.waitUntilLive(proxied, cluster)
        try await Self.waitUntilLive(direct, cluster)
        let events = StreamTraffic.mixed(1_000, seed: 2)
        let expected = events.filter(StreamTraffic.readmeMatches)
        try await cluster.produce(events)
        try await Self.waitForProbes(proxied, cluster, round: 1)
        try await Self.waitForProbes(direct, cluster, round: 2)
        #expect(StreamTraffic.problems(received: proxied.events, expected: expected).isEmpty)
        #expect(StreamTraffic.problems(received: direct.events, expected: expected).isEmpty)
        #expect(StreamTraffic.mixEvents(proxied.events).count == expected.count)
    }

    /// Disconnected while 1,000 events are produced, a client that resumes with its last id
    /// gets every missed match once, in order, then live events, with nothing lost or doubled
    /// at the seam (events are produced while it replays). SSE resumes the same way with
    /// `Last-Event-ID`.
    @Test(.timeLimit(.minutes(2)))
    func aResumingClientMissesNothing() async throws {
        let cluster = try await StreamCluster()
        afterTest { await cluster.stop() }
        try await cluster.createFilter(StreamTraffic.readmeFilter)
        // A subscriber of every event: its replay is long, so live events meet it mid-way.
        try await cluster.createFilter(#"{"subscriber_id": "everything"}"#)
        let first = cluster.socket("user_1")
        let firstAll = cluster.socket("everything")
        try await Self.waitUntilLive(first, cluster)
        try await Self.waitUntilLive(firstAll, cluster)
        let before = StreamTraffic.mixed(300, seed: 3)
        try await cluster.produce(before)
        try await Self.waitForProbes(first, cluster, round: 1)
        try await Self.waitForProbes(firstAll, cluster, round: 2)
        await first.close()
        await firstAll.close()
        let last = try #require(first.lastID)
        let lastAll = try #require(firstAll.lastID)

        let missed = StreamTraffic.mixed(3_000, first: 300, seed: 3)
        try await cluster.produce(missed)
        // Live events while the replays run.
        let during = StreamTraffic.mixed(500, first: 3_300, seed: 3)
        let producing = Task { try await cluster.produce(during, batch: 25) }
        let resumed = cluster.socket("user_1", since: last)
        let resumedAll = cluster.socket("everything", since: lastAll)
        let sse = try await SSEClient(cluster.first.baseURL + "/sse/user_1", headers: ["Last-Event-ID": last])
        afterTest {
            await resumed.close()
            await resumedAll.close()
        }
        #expect(sse.status == 200 && sse.contentType == "text/event-stream")
        try await producing.value
        try await Self.waitForProbes(resumed, cluster, round: 3)
        try await Self.waitForProbes(resumedAll, cluster, round: 4)
        let expected = (missed + during).filter(StreamTraffic.readmeMatches)
        let problems = StreamTraffic.problems(received: resumed.events, expected: expected)
        #expect(problems.isEmpty, "\(problems)")
        let problemsAll = StreamTraffic.problems(received: resumedAll.events, expected: missed + during)
        #expect(problemsAll.isEmpty, "everything: \(problemsAll)")
        #expect(resumed.messages.all.first?["type"] == "event", "a position within retention is recovered in full")
        #expect(RedisStreamID(resumed.events.first?["id"]?.stringValue ?? "") > RedisStreamID(last))

        let streamed = await poll(timeout: .seconds(10)) { Self.parse(sse.events.all).count >= resumed.events.count }
        #expect(streamed.held)
        #expect(StreamTraffic.problems(received: Self.parse(sse.events.all), expected: expected).isEmpty)
        #expect(sse.events.all.map(\.id) == resumed.events.map { $0["id"]?.stringValue }, "both transports carry the same positions")
    }

    /// Two instances, subscribers spread over both (one of them connected to both), producers
    /// posting to both at once: every connection gets every match of its filter exactly once.
    @Test(.timeLimit(.minutes(2)))
    func twoInstancesDeliverEveryMatchOnce() async throws {
        let cluster = try await StreamCluster(roles: [[:], [:]])
        afterTest { await cluster.stop() }
        let filters: [(String, String, (JSONValue) -> Bool)] = [
            ("buyers", #"{"subscriber_id": "buyers", "event_types": ["purchase"]}"#, { $0["event_type"] == "purchase" }),
            ("premium", #"{"subscriber_id": "premium", "user_tiers": ["premium"]}"#, { $0["user_tier"] == "premium" }),
            ("big", #"{"subscriber_id": "big", "min_amount": 250}"#, { ($0["amount"]?.double ?? -1) >= 250 }),
            (
                "eu-refunds",
                #"{"subscriber_id": "eu-refunds", "conditions": {"and": [{"field": "event_type", "op": "eq", "value": "refund"}, {"field": "properties.region", "op": "in", "values": ["EU"]}]}}"#,
                { $0["event_type"] == "refund" && $0["properties"]?["region"] == "EU" }
            ),
            ("user_1", StreamTraffic.readmeFilter, StreamTraffic.readmeMatches),
        ]
        for (index, filter) in filters.enumerated() { try await cluster.createFilter(filter.1, instance: index % 2) }
        // A probe matches every filter but "eu-refunds"; that one gets its own probes.
        try await cluster.send(
            .PATCH,
            "/filters/eu-refunds",
            json:
                #"{"conditions": {"or": [{"field": "properties.seq", "op": "gte", "value": 90000000}, {"and": [{"field": "event_type", "op": "eq", "value": "refund"}, {"field": "properties.region", "op": "in", "values": ["EU"]}]}]}}"#
        )
        let sockets =
            filters.enumerated().map { index, filter in (filter.0, cluster.socket(filter.0, instance: index % 2)) }
            + [("user_1", cluster.socket("user_1", instance: 0))]
        afterTest { for (_, socket) in sockets { await socket.close() } }
        for (_, socket) in sockets { try await Self.waitUntilLive(socket, cluster) }

        let events = StreamTraffic.mixed(2_000, seed: 5)
        async let one: Void = cluster.produce(Array(events.prefix(1_000)), instance: 0, batch: 100)
        async let two: Void = cluster.produce(Array(events.dropFirst(1_000)), instance: 1, batch: 100)
        _ = try await (one, two)
        for (index, (name, socket)) in sockets.enumerated() {
            try await Self.waitForProbes(socket, cluster, round: 1 + index)
            let expected = events.filter(filters.first { $0.0 == name }!.2)
            // Each producer's events of a user keep its order; the two producers interleave.
            let problems = StreamTraffic.problems(received: socket.events, expected: expected) { $0 < 1_000 ? 0 : 1 }
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    /// SSE events as the WebSocket's messages, to compare them the same way.
    static func parse(_ events: [SSEClient.Event]) -> [JSONValue] {
        events.filter { $0.event == "event" }.map { event in
            ["type": "event", "id": .string(event.id ?? ""), "event": (try? JSONValue.parse(Data(event.data.utf8))) ?? .null]
        }
    }

    /// A position older than the replay window gets an explicit `not_recovered` first, then
    /// the oldest events still kept, in order; the same for a position the store never
    /// issued. Never a silent gap.
    @Test(.timeLimit(.minutes(2)))
    func aPositionBeyondRetentionIsSaidSo() async throws {
        let cluster = try await StreamCluster(environment: ["STREAM_REPLAY_MAX_LENGTH": "50"])
        afterTest { await cluster.stop() }
        try await cluster.createFilter(#"{"subscriber_id": "all"}"#)
        let first = cluster.socket("all")
        try await Self.waitUntilLive(first, cluster)
        await first.close()
        let last = try #require(first.lastID)
        try await cluster.produce(StreamTraffic.mixed(1_000, seed: 4))
        // The workers match the mix after the post has been answered: resume only once the
        // subscriber's stream has been trimmed past `last`, else the resume is still in range.
        let trimmed = try await withRedis(cluster.redis) { redis in
            await poll(timeout: .seconds(20), every: .milliseconds(100)) {
                let oldest = try await redis.xrange("stream:{s:all}:out", after: "0-0", count: 1)
                return oldest.first.map { RedisStreamID($0.id) > RedisStreamID(last) } ?? false
            }
        }
        #expect(trimmed.held, "the subscriber's stream was never trimmed past \(last): \(trimmed.explanation)")
        let resumed = cluster.socket("all", since: last)
        afterTest { await resumed.close() }
        let notice = await resumed.messages.waitFor { $0["type"] == "not_recovered" }
        #expect(notice?["since"]?.stringValue == last)
        #expect(resumed.messages.all.first?["type"] == "not_recovered", "the notice comes before any event")
        try await Self.waitForProbes(resumed, cluster, round: 1)
        let kept = StreamTraffic.mixEvents(resumed.events).map(StreamTraffic.seq)
        // Trimming keeps at least the newest 50 (more, as it trims whole nodes).
        #expect(kept.count >= 50 && kept.count < 1_000, "kept \(kept.count)")
        #expect(StreamTraffic.problems(received: resumed.events, expected: []).allSatisfy { $0.hasPrefix("not matching") })
        #expect(RedisStreamID(resumed.events.first?["id"]?.stringValue ?? "") == RedisStreamID(notice?["earliest"]?.stringValue ?? "x"))

        let future = cluster.socket("all", since: "99999999999999-0")
        afterTest { await future.close() }
        #expect(await future.messages.waitFor { $0["type"] == "not_recovered" } != nil)
    }

    /// Hostile input: malformed and oversized bodies and frames, huge lists, unknown
    /// subscribers, bad positions. Each gets a clear answer or close code; the service keeps
    /// running and delivering.
    @Test(.timeLimit(.minutes(2)))
    func hostileInputGetsClearAnswersAndTheServiceStaysUp() async throws {
        let cluster = try await StreamCluster()
        afterTest { await cluster.stop() }
        let base = cluster.first.baseURL
        try await cluster.createFilter(StreamTraffic.readmeFilter)
        #expect(try await HTTP.post(base + "/events", json: "{\"event_type\": ").status == 400)
        #expect(try await HTTP.post(base + "/events", bytes: Array(repeating: 0x20, count: 3 << 20)).status == 413)
        let many = (0..<10_000).map { "\"t\($0)\"" }.joined(separator: ",")
        let huge = try await cluster.send(.POST, "/filters", json: #"{"subscriber_id": "h", "event_types": [\#(many)]}"#)
        #expect(huge.status == 422 && huge.json?["field"] == "event_types")
        let tooMany = "[" + Array(repeating: #"{"event_type": "v", "user_id": "u", "user_tier": "t"}"#, count: 10_000).joined(separator: ",") + "]"
        #expect(try await HTTP.post(base + "/events", json: tooMany).json?["field"] == "[1000]")
        #expect(try await HTTP.get(base + "/sse/user_1?since=yesterday").json?["field"] == "since")
        #expect(try await HTTP.get(base + "/sse/nobody").status == 404)
        #expect(try await HTTP.get(base + "/sse/bad%20id").status == 422)

        for (path, code) in [("/ws/nobody", 4404), ("/ws/user_1?since=not-a-position", 4400), ("/ws/bad%20id", 4400)] {
            let socket = StreamSocket("ws://127.0.0.1:\(cluster.first.port)\(path)")
            let closed = await socket.waitClosed()
            #expect(
                closed == code,
                "\(path): \(closed.map { "closed with \($0)" } ?? "no close code"), ending \(String(describing: socket.messages.ending))"
            )
        }
        // A frame over the 64 KiB limit, and bytes that are no frame at all.
        let oversized = try RawSocket(port: cluster.first.port)
        try oversized.send(RawSocket.handshake("/ws/user_1"))
        await oversized.read(timeout: .seconds(5)) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        try oversized.send(RawSocket.clientFrame(opcode: 1, payload: Array(repeating: 0x61, count: 100_000)))
        #expect(await oversized.read(timeout: .seconds(10)), "closed after an oversized frame")
        #expect(RawSocket.closeCode(oversized.received) == 1009)
        let garbage = try RawSocket(port: cluster.first.port)
        try garbage.send(RawSocket.handshake("/ws/user_1"))
        await garbage.read(timeout: .seconds(5)) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        try garbage.send(Array(repeating: 0xFF, count: 64))
        #expect(await garbage.read(timeout: .seconds(10)), "closed after bytes that are no frame")
        // Still running, still delivering.
        #expect(cluster.first.isRunning)
        let socket = cluster.socket("user_1")
        afterTest { await socket.close() }
        try await Self.waitUntilLive(socket, cluster)
    }

    /// schemathesis against the live service and its own `/openapi.json`: no 5xx, and no
    /// status, content type, header or body outside the document.
    @Test(.timeLimit(.minutes(4)))
    func schemathesisFindsNothing() async throws {
        let cluster = try await StreamCluster()
        afterTest { await cluster.stop() }
        do {
            // Delivery never ends; tested by its own tests.
            let output = try await Schemathesis.run(
                cluster.first.baseURL,
                adminKey: StreamCluster.adminKey,
                seed: "20261202",
                excluding: ["/sse/{subscriber_id}", "/ws/{subscriber_id}"]
            )
            #expect(output.contains("passed"))
        } catch let failure as Shell.Failure {
            Issue.record("schemathesis found problems:\n\(failure.output.suffix(6000))")
        }
        #expect(cluster.first.isRunning)
    }

    /// Produces probes until one reaches `socket`: from then on it is live.
    static func waitUntilLive(_ socket: StreamSocket, _ cluster: StreamCluster, instance: Int = 0) async throws {
        var attempt = 0
        let live = await poll(timeout: .seconds(20), every: .milliseconds(200)) {
            attempt += 1
            try await cluster.produce([StreamTraffic.probe(1_000_000 + attempt)], instance: instance)
            return !socket.events.isEmpty
        }
        #expect(live.held, "no event reached the socket: \(live.explanation); close code \(socket.code.map(String.init) ?? "none")")
    }

    /// Produces probe round `round`, one probe for each of the mix's users, and waits until
    /// all of them arrived: as each user's events keep their order, everything of the mix
    /// produced before has been matched by then.
    static func waitForProbes(_ socket: StreamSocket, _ cluster: StreamCluster, round: Int, users: Int = 40, instance: Int = 0) async throws {
        let numbers = (0..<users).map { round * 1_000 + $0 }
        try await cluster.produce(zip(numbers, 0..<users).map { StreamTraffic.probe($0, user: "u\($1)") }, instance: instance)
        let wanted = Set(numbers.map { StreamTraffic.probeSeq + $0 })
        let arrived = await poll(timeout: .seconds(20)) {
            wanted.isSubset(of: socket.events.map { StreamTraffic.seq($0["event"] ?? .null) })
        }
        #expect(arrived.held, "probe round \(round) never arrived in full; close code \(socket.code.map(String.init) ?? "none")")
    }
}

/// StreamFilter's tests with timing bounds: run in the serial "Exclusive" pass of
/// scripts/test.sh, where no other test competes for the machine.
@Suite("Exclusive StreamFilter", .teardown)
struct ExclusiveStreamTests {
    /// A filter changed on one instance applies to a connection on the other within 1 s,
    /// without a reconnect; deleted, it closes the connection with 4410.
    @Test(.timeLimit(.minutes(2)))
    func filterChangesReachLiveConnectionsOnTheOtherInstance() async throws {
        let cluster = try await StreamCluster(roles: [[:], [:]], environment: ["STREAM_RESYNC_MS": "600000"])
        afterTest { await cluster.stop() }
        try await cluster.createFilter(#"{"subscriber_id": "watcher", "event_types": ["purchase"]}"#)
        // The other instance holds a new filter within a second (the contract), not at once.
        #expect(await eventually(timeout: .seconds(1)) { try await HTTP.get(cluster.instances[1].baseURL + "/filters/watcher").status == 200 })
        let socket = cluster.socket("watcher", instance: 1)
        afterTest { await socket.close() }
        try await ExclusiveStreamFlowTests.waitUntilLive(socket, cluster, instance: 1)

        let changed = ContinuousClock.now
        let patched = try await cluster.send(.PATCH, "/filters/watcher", json: #"{"event_types": ["refund"], "min_amount": 10}"#)
        #expect(patched.status == 200 && patched.json?["event_types"] == ["refund"] && patched.json?["min_amount"] == 10)
        let version = try #require(patched.json?["version"])
        // Pub/sub alone (the resync is 10 minutes away) brings it to the other instance.
        let applied = await poll(timeout: .seconds(1)) {
            try await HTTP.get(cluster.instances[1].baseURL + "/filters/watcher").json?["version"] == version
        }
        #expect(applied.held, "the change reached the other instance in \(ContinuousClock.now - changed)")
        let refund: JSONValue = ["event_type": "refund", "user_id": "u1", "user_tier": "basic", "amount": 20, "properties": ["seq": 1]]
        let purchase: JSONValue = ["event_type": "purchase", "user_id": "u1", "user_tier": "basic", "amount": 20, "properties": ["seq": 2]]
        let small: JSONValue = ["event_type": "refund", "user_id": "u1", "user_tier": "basic", "amount": 5, "properties": ["seq": 3]]
        let count = socket.events.count
        try await cluster.produce([purchase, small, refund], instance: 1)
        let got = await socket.messages.waitFor { $0["event"]?["properties"]?["seq"] == 1 }
        #expect(got != nil && socket.events.count == count + 1, "only the refund of 20 matches now: \(socket.events.dropFirst(count))")
        #expect(socket.code == nil, "still the same connection")

        let deleted = ContinuousClock.now
        #expect(try await cluster.send(.DELETE, "/filters/watcher").status == 204)
        let code = await socket.waitClosed(timeout: .seconds(1))
        #expect(code == 4410, "closed with \(code.map(String.init) ?? "nothing") after \(ContinuousClock.now - deleted)")
        // A new connection for a deleted filter is refused with 4404.
        let refused = cluster.socket("watcher", instance: 1)
        #expect(await refused.waitClosed() == 4404)
        #expect(try await HTTP.get(cluster.first.baseURL + "/sse/watcher").status == 404)
    }
}
