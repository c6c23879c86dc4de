import Foundation
import Shared
import TestSupport
import Testing

/// Every service's client connections, on the real executables (the gateway first): idle
/// keep-alive connections are closed, a head that trickles in is cut off at its deadline,
/// and connections past the cap are refused while the others are served. Serial: the
/// timeouts are short, and a busy machine would stretch what the test waits between steps.
@Suite("Connection hygiene", .teardown)
struct ExclusiveConnectionHygieneTests {
    static let probe = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    static func gateway(_ limits: [String: String]) async throws -> ServiceProcess {
        let gateway = try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: ["REDIS_URL": TestEnvironment.redisURL, "GATEWAY_DASHBOARD_AUTH": "open"].merging(limits) { $1 }
        )
        afterTest { await ServiceProcess.stopAll([gateway]) }
        return gateway
    }

    static func flags(_ limits: [String: String]) async throws -> ServiceProcess {
        let database = try await TestEnvironment.freshDatabase("flags")
        let flags = try await ServiceProcess.start(
            "FlagService",
            portVariable: "FLAG_PORT",
            environment: ["REDIS_URL": TestEnvironment.redisURL, "DATABASE_URL": database].merging(limits) { $1 }
        )
        afterTest { await ServiceProcess.stopAll([flags]) }
        return flags
    }

    /// Sends the probe on `socket` and reads its whole answer.
    static func exchange(_ socket: RawSocket) async throws -> String {
        let before = socket.received.count
        try socket.send(probe)
        await socket.read(timeout: .seconds(10)) { RawHTTP.hasWholeBody(String(decoding: $0[before...], as: UTF8.self)) }
        return String(decoding: socket.received[before...], as: UTF8.self)
    }

    static func metric(_ service: ServiceProcess, _ name: String) async throws -> Double? {
        let text = try await HTTP.get(service.baseURL + "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test(arguments: ["Gateway", "FlagService"])
    func idleKeepAliveConnectionsAreClosedAfterTheTimeout(_ executable: String) async throws {
        let limits = ["HTTP_IDLE_TIMEOUT_MS": "1000", "HTTP_HEADER_TIMEOUT_MS": "2000"]
        let service = executable == "Gateway" ? try await Self.gateway(limits) : try await Self.flags(limits)
        var sockets: [RawSocket] = []
        for _ in 0..<50 {
            let socket = try RawSocket(port: service.port)
            #expect(try await Self.exchange(socket).hasPrefix("HTTP/1.1 200"))
            // Still kept alive right after an answer.
            #expect(try await Self.exchange(socket).hasPrefix("HTTP/1.1 200"))
            sockets.append(socket)
        }
        let silent = try RawSocket(port: service.port)
        let deadline = ContinuousClock.now + .seconds(20)
        for socket in sockets {
            let closed = await socket.read(timeout: max(deadline - .now, .milliseconds(10)))
            #expect(closed, "an idle keep-alive connection was still open")
        }
        // One that never said anything is told why, at the head deadline.
        #expect(await silent.read(timeout: .seconds(20)))
        #expect(String(decoding: silent.received, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
        #expect(try await Self.metric(service, "http_connections_timed_out_total") ?? 0 >= 51)
        #expect(service.isRunning)
    }

    @Test func aRequestInFlightOutlivesTheIdleTimeout() async throws {
        let gateway = try await Self.gateway(["HTTP_IDLE_TIMEOUT_MS": "500", "HTTP_HEADER_TIMEOUT_MS": "500"])
        let viewer = try RawSocket(port: gateway.port)
        try viewer.send("GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        // The dashboard nudges its viewers every second: four events span eight timeouts.
        let closed = await viewer.read(timeout: .seconds(30)) {
            String(decoding: $0, as: UTF8.self).components(separatedBy: "event: state").count > 5
        }
        #expect(!closed, "an event stream was cut by the idle timeout")
        #expect(String(decoding: viewer.received, as: UTF8.self).components(separatedBy: "event: state").count > 5)
    }

    /// A WebSocket is a request that never ends: StreamFilter's subscribers stay connected
    /// and served through many idle and head timeouts.
    @Test func aWebSocketOutlivesTheTimeouts() async throws {
        let cluster = try await StreamCluster(environment: ["HTTP_IDLE_TIMEOUT_MS": "1000", "HTTP_HEADER_TIMEOUT_MS": "1000"])
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFilter(StreamTraffic.readmeFilter).status == 201)
        let socket = cluster.socket("user_1")
        afterTest { await socket.close() }
        try await ExclusiveStreamFlowTests.waitUntilLive(socket, cluster)
        let before = socket.events.count
        // What is under test is this span itself: four timeouts' worth of quiet.
        try await Task.sleep(for: .seconds(4))
        try await cluster.produce([StreamTraffic.probe(2_000_000)])
        let events = await socket.waitForEvents(before + 1)
        #expect(events.count > before, "the subscriber heard nothing after the quiet; close code \(socket.code.map(String.init) ?? "none")")
        #expect(socket.code == nil)
    }

    @Test func aHeadSentOneByteAtATimeIsCutOffAtTheDeadline() async throws {
        let gateway = try await Self.gateway(["HTTP_HEADER_TIMEOUT_MS": "1500"])
        let slow = try RawSocket(port: gateway.port)
        let other = try RawSocket(port: gateway.port)
        let head = Array("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 60))\r\n\r\n".utf8)
        var sent = 0
        var servedMeanwhile = 0
        var cut = false
        // One byte every 100 ms would take ten seconds; the deadline is 1.5 s.
        while sent < head.count {
            do {
                try slow.send([head[sent]])
            } catch {
                cut = true
                break
            }
            sent += 1
            if await slow.read(timeout: .milliseconds(100)) {
                cut = true
                break
            }
            if try await Self.exchange(other).hasPrefix("HTTP/1.1 200") { servedMeanwhile += 1 }
        }
        #expect(cut, "the whole head was taken, one byte at a time")
        #expect(sent < head.count)
        let answer = String(decoding: slow.received, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(!answer.contains("200 OK"))
        #expect(servedMeanwhile >= 1, "other clients were not served while the slow head trickled in")
    }

    @Test func connectionsPastTheCapAreRefusedWhileTheOthersAreServed() async throws {
        let gateway = try await Self.gateway(["HTTP_MAX_CONNECTIONS": "8", "HTTP_HEADER_TIMEOUT_MS": "60000"])
        // The readiness probe's connection closes on its own time: each place is polled for.
        var held: [RawSocket] = []
        for _ in 0..<8 {
            var admitted: RawSocket?
            #expect(
                await eventually {
                    let socket = try RawSocket(port: gateway.port)
                    guard try await Self.exchange(socket).hasPrefix("HTTP/1.1 200") else { return false }
                    admitted = socket
                    return true
                }
            )
            held.append(try #require(admitted))
        }

        for _ in 0..<3 {
            let extra = try RawSocket(port: gateway.port)
            try extra.send(Self.probe)
            #expect(await extra.read(timeout: .seconds(10)), "a connection past the cap was kept")
            let answer = String(decoding: extra.received, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.lowercased().contains("retry-after: 1") && answer.contains("/problems/too-many-connections"))
        }
        for socket in held { #expect(try await Self.exchange(socket).hasPrefix("HTTP/1.1 200"), "a held connection was not served") }

        held.removeLast()  // closed: its place is free again
        var last = ""
        #expect(
            await eventually {
                let fresh = try RawSocket(port: gateway.port)
                last = try await Self.exchange(fresh)
                return last.hasPrefix("HTTP/1.1 200")
            },
            "\(last)"
        )
        held.removeAll()
        #expect(await eventually { try await Self.metric(gateway, "http_connections_refused_total") ?? 0 >= 3 })
        #expect(gateway.isRunning)
    }
}
