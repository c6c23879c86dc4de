import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Shared
import TestSupport
import Testing

/// Exclusive (run alone, after the parallel pass): the gateway's executable in front of a
/// ``ProxyOrigin`` in the test process, measured from outside (its memory) and stopped with
/// a signal while it is busy.
@Suite("Gateway forwarding, the executable", .teardown)
struct ExclusiveGatewayForwardingTests {
    func startGateway(origin port: Int, redis: PrivateRedis) async throws -> ServiceProcess {
        try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: [
                "REDIS_URL": redis.url, "FLAG_URL": "http://127.0.0.1:\(port)", "GATEWAY_RATE_LIMIT": "off",
                "GATEWAY_INFLIGHT_PER_CLIENT": "512", "LOG_LEVEL": "warning",
            ]
        )
    }

    /// The peak resident set of `pid` (`VmHWM`), in bytes.
    static func peakRSS(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")) * 1024
    }

    @Test(.timeLimit(.minutes(2)))
    func a50MBDownloadIsStreamedInBoundedMemory() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let origin = ProxyOrigin()
        try await origin.application().test(.live) { upstream in
            let gateway = try await startGateway(origin: try #require(upstream.port), redis: redis)
            afterTest {
                gateway.signal(SIGTERM)
                _ = await gateway.waitForExit()
            }
            // Warm: connections, buffers and the first allocations are in the baseline.
            for _ in 0..<20 { _ = try await HTTPClient.shared.get(url: "http://127.0.0.1:\(gateway.port)/flags/bytes/65536").get() }
            let before = try Self.peakRSS(gateway.pid)
            let size = 50 << 20
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)/flags/bytes/\(size)")
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok)
            var received = 0
            var chunks = 0
            for try await buffer in response.body {
                received += buffer.readableBytes
                chunks += 1
                // A reader slower than the origin: without back-pressure the gateway would
                // hold the difference.
                if chunks % 64 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(received == size)
            let growth = try Self.peakRSS(gateway.pid) - before
            #expect(growth < 16 << 20, "the gateway's peak RSS grew by \(growth >> 20) MiB for a \(size >> 20) MB download")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermWith200RequestsInFlightLosesNone() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let origin = ProxyOrigin()
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256))
        )
        afterTest { try? await client.shutdown() }
        try await origin.application().test(.live) { upstream in
            let gateway = try await startGateway(origin: try #require(upstream.port), redis: redis)
            let url = "http://127.0.0.1:\(gateway.port)/flags/slow/1500"
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1024)
                        return response.status.code
                    }
                }
                // All 200 have reached the origin: they are in flight through the gateway.
                #expect(await eventually { origin.received.withLockedValue { $0 } == 200 })
                gateway.signal(SIGTERM)
                var statuses: [UInt] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.count == 200)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
            #expect(await gateway.waitForExit(timeout: .seconds(20)) == 0)
        }
    }
}
