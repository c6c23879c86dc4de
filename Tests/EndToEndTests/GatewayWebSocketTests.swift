import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Shared
import TestSupport
import Testing

/// WebSocket upgrades through the real gateway, to a WebSocket server in the test process
/// (no service of the suite speaks WebSocket yet).
@Suite("Gateway WebSockets", .teardown)
struct GatewayWebSocketTests {
    let logger = Logger(label: "test.gateway.ws")

    /// A WebSocket server that first says what it was asked (path, forwarded headers), then
    /// echoes every message; `close <code>` makes it close with that code.
    func startEchoServer() async throws -> (port: Int, task: Task<Void, any Error>) {
        let port = NIOLockedValueBox<Int?>(nil)
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 20))) { request, _, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    let fields = request.headerFields
                    try await outbound.write(
                        .text(
                            "path=\(request.path ?? "") xff=\(fields[.forwardedFor] ?? "-") proto=\(fields[.forwardedProto] ?? "-") "
                                + "rid=\(fields[.requestID] ?? "-") token=\(fields[.authorization] ?? "-")"
                        )
                    )
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        switch message {
                        case .text(let text) where text.hasPrefix("close "):
                            try await outbound.close(.init(codeNumber: Int(text.dropFirst(6)) ?? 1000), reason: "asked to")
                            return
                        case .text(let text): try await outbound.write(.text(text))
                        case .binary(let bytes): try await outbound.write(.binary(bytes))
                        }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLockedValue { $0 = channel.localAddress?.port } },
            logger: logger
        )
        let task = Task { try await app.runService() }
        // A loaded parallel pass once took longer than the default 10 s to start it.
        guard await eventually(timeout: .seconds(30), { port.withLockedValue { $0 } != nil }), let bound = port.withLockedValue({ $0 }) else {
            task.cancel()
            throw EchoServerDidNotStart()
        }
        return (bound, task)
    }

    struct EchoServerDidNotStart: Error {}

    /// A client's upgrade request for `/stream/echo`, as raw bytes (with `X-Api-Key` when
    /// `key` is given).
    static func handshake(key: String? = nil) -> String {
        "GET /stream/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + (key.map { "X-Api-Key: \($0)\r\n" } ?? "") + "\r\n"
    }

    func startGateway(streamURL: String, redis: PrivateRedis) async throws -> ServiceProcess {
        try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: [
                "REDIS_URL": redis.url, "STREAM_URL": streamURL, "GATEWAY_RATE_LIMIT": "off", "HEALTH_INTERVAL_MS": "500",
            ]
        )
    }

    /// The upgrade passes the route's checks before anything reaches the upstream: with
    /// `keys_on_reads`, no key is refused; with a rate limit of 2, the third upgrade is.
    @Test(.timeLimit(.minutes(1)))
    func upgradesAreRefusedWithoutAKeyAndOverTheRateLimit() async throws {
        let redis = try await PrivateRedis.start()
        let (port, server) = try await startEchoServer()
        let routes = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("routes") + ".json"
        let table =
            #"{"routes": [{"prefix": "/stream", "service": "stream", "urls": ["http://127.0.0.1:\#(port)"], "keys_on_reads": true, "rate_limit": {"limit": 2, "period_s": 60}}]}"#
        try Data(table.utf8).write(to: URL(fileURLWithPath: routes))
        let gateway = try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: ["REDIS_URL": redis.url, "GATEWAY_ROUTES_FILE": routes, "ADMIN_API_KEYS": "ws-key", "HEALTH_INTERVAL_MS": "500"]
        )
        afterTest {
            server.cancel()
            gateway.signal(SIGTERM)
            _ = await gateway.waitForExit()
            try? await redis.stop()
        }
        func handshake(_ key: String?) async throws -> String {
            // The head is enough: a 101 keeps the connection open, a refusal closes it.
            try await RawHTTP.exchange(port: gateway.port, Self.handshake(key: key)) { $0.contains("\r\n\r\n") }
        }
        // A declined upgrade is the gateway's 400 with `Connection: close` (see
        // ForwardingHandler); the reason is in the gateway's log.
        let unkeyed = try await handshake(nil)
        #expect(unkeyed.hasPrefix("HTTP/1.1 400 ") && !unkeyed.contains(" 101 "), "\(unkeyed)")
        #expect(await eventually { gateway.log.components(separatedBy: "WebSocket upgrade refused").count == 2 })
        for _ in 0..<2 {
            let admitted = try await handshake("ws-key")
            #expect(admitted.hasPrefix("HTTP/1.1 101 "), "\(admitted)")
        }
        let limited = try await handshake("ws-key")
        #expect(limited.hasPrefix("HTTP/1.1 400 ") && !limited.contains(" 101 "), "\(limited)")
        #expect(await eventually { gateway.log.components(separatedBy: "WebSocket upgrade refused").count == 3 }, "\(gateway.log)")
        let reasons = gateway.log.split(separator: "\n").filter { $0.contains("WebSocket upgrade refused") }
        #expect(reasons.count == 2 && reasons[0].contains("401") && reasons[1].contains("429"), "\(reasons)")
    }

    @Test(.timeLimit(.minutes(1)))
    func messagesAndFragmentsGoBothWaysAndCloseCodesComeBack() async throws {
        let redis = try await PrivateRedis.start()
        let (port, server) = try await startEchoServer()
        let gateway = try await startGateway(streamURL: "http://127.0.0.1:\(port)", redis: redis)
        afterTest {
            server.cancel()
            gateway.signal(SIGTERM)
            _ = await gateway.waitForExit()
            try? await redis.stop()
        }

        let big = ByteBuffer(bytes: (0..<300_000).map { UInt8($0 % 251) })
        let received = NIOLockedValueBox<[WebSocketMessage]>([])
        let close = try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(gateway.port)/stream/echo/room?since=5",
            configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer t0k", .requestID: "ws-req-1"]),
            logger: logger
        ) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            func receive() async throws {
                if let message = try await messages.next() { received.withLockedValue { $0.append(message) } }
            }
            try await receive()
            try await outbound.write(.text("hello ✓"))
            try await receive()
            // One message in three fragments: the relay passes each on, the server reassembles.
            for (index, start) in stride(from: 0, to: big.readableBytes, by: 100_000).enumerated() {
                let part = big.getSlice(at: start, length: min(100_000, big.readableBytes - start))!
                let last = start + 100_000 >= big.readableBytes
                try await outbound.write(.custom(WebSocketFrame(fin: last, opcode: index == 0 ? .binary : .continuation, data: part)))
            }
            try await receive()
            try await outbound.write(.text("close 4001"))
            while try await messages.next() != nil {}
        }
        let messages = received.withLockedValue { $0 }
        #expect(messages.count == 3)
        #expect(messages.first == .text("path=/echo/room?since=5 xff=127.0.0.1 proto=http rid=ws-req-1 token=Bearer t0k"))
        #expect(messages.dropFirst().first == .text("hello ✓"))
        #expect(messages.last == .binary(big))
        #expect(close?.closeCode == .init(codeNumber: 4001))
        #expect(gateway.isRunning)
    }
}

/// Exclusive (run alone, after the parallel pass): the breaker opened by the refused
/// upgrades stays open for one second, and the request that finds it open must come inside it.
@Suite("Gateway WebSockets, unreachable upstream", .teardown)
struct ExclusiveGatewayWebSocketTests {
    let logger = Logger(label: "test.gateway.ws")

    @Test(.timeLimit(.minutes(1)))
    func anUnreachableUpstreamRefusesTheUpgradeAndOpensItsBreaker() async throws {
        let redis = try await PrivateRedis.start()
        let gateway = try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: [
                "REDIS_URL": redis.url, "STREAM_URL": "http://127.0.0.1:\(freePort())", "GATEWAY_RATE_LIMIT": "off",
            ]
        )
        afterTest {
            gateway.signal(SIGTERM)
            _ = await gateway.waitForExit()
            try? await redis.stop()
        }
        let handshake = GatewayWebSocketTests.handshake()
        // The upstream is tried before any 101: unreachable, the handshake is refused and the
        // connection closed (the exchange returns only once the gateway has closed it).
        for _ in 0..<5 {
            let answer = try await RawHTTP.exchange(port: gateway.port, handshake)
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(answer)")
            #expect(!answer.contains("101"))
        }
        // Those five attempts alone opened the breaker: a request now gets 503 without trying.
        let plain = try await HTTP.get("http://127.0.0.1:\(gateway.port)/stream/echo")
        #expect(plain.status == 503)
        #expect(plain.header("retry-after") != nil)
        #expect(plain.header("content-type") == "application/problem+json")
        await #expect(throws: (any Error).self) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(gateway.port)/stream/echo", logger: logger) { inbound, _, _ in
                for try await _ in inbound {}
            }
        }
        #expect(gateway.isRunning)
    }
}
