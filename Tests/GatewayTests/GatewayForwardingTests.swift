import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import NIOPosix
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// HTTP/1.1 through the forwarding path, on the wire: the gateway's real `buildApplication`
/// served live in front of a ``ProxyOrigin``, spoken to in raw bytes where framing is the point.
@Suite("Gateway forwarding", .teardown)
struct GatewayForwardingTests {
    /// The gateway in front of `origin` under `/flags`, and its port.
    func withGateway(
        _ extra: [String: String] = [:],
        _ body: @Sendable (_ gateway: Int, _ origin: ProxyOrigin) async throws -> Void
    )
        async throws
    {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let origin = ProxyOrigin()
        try await origin.application().test(.live) { upstream in
            let gateway = try GatewayProxyTests.gateway(flagURLs: [try GatewayProxyTests.url(upstream.port)], redis: redis, extra)
            try await gateway.test(.live) { client in try await body(try #require(client.port), origin) }
        }
    }

    /// The responses in `answer`, split by their status lines.
    static func responses(_ answer: String) -> [Substring] {
        answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { Substring($0) }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAcrossTheForwardingPathAndTheRouter() async throws {
        try await withGateway { port, _ in
            // One write: proxied, the gateway's own route, proxied again; the slow one first.
            let answer = try await RawHTTP.exchange(
                port: port,
                "GET /flags/slow/200 HTTP/1.1\r\nHost: g\r\n\r\n" + "GET /health/live HTTP/1.1\r\nHost: g\r\n\r\n"
                    + "GET /flags/bytes/7 HTTP/1.1\r\nHost: g\r\n\r\n" + "GET /flags/closing HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
            )
            let responses = Self.responses(answer)
            #expect(responses.count == 4, "\(answer)")
            #expect(responses.first?.hasSuffix("\r\n\r\nok") == true, "\(answer)")
            #expect(responses.dropFirst().first?.lowercased().contains("\"status\"") == true, "\(answer)")
            #expect(responses.dropFirst(2).first?.hasSuffix("\r\n\r\nxxxxxxx") == true, "\(answer)")
            #expect(responses.last?.hasSuffix("closing") == true, "\(answer)")
        }
    }

    @Test func aChunkedUploadIsStreamedToTheUpstreamAndExpectContinueIsAnswered() async throws {
        try await withGateway(["GATEWAY_KEYS_ON_WRITES": "false", "MAX_BODY_BYTES": "\(4 << 20)"]) { port, origin in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/flags/count")
            request.method = .POST
            let chunks = (0..<32).map { _ in ByteBuffer(repeating: UInt8(ascii: "y"), count: 64 * 1024) }
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let json = try JSONValue.parse(Data(buffer: try await response.body.collect(upTo: 1 << 16)))
            #expect(response.status == .ok)
            #expect(json["bytes"] == .number(Double(32 * 64 * 1024)))
            #expect(json["chunked"] == .bool(true))

            // The gateway answers the 100 itself (the upstream's codec would drop it) and the
            // upstream is not asked to.
            let answer = try await RawHTTP.exchange(
                port: port,
                "POST /flags/count HTTP/1.1\r\nHost: g\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
            )
            #expect(answer.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(answer)")
            let final = try #require(Self.responses(answer).last)
            #expect(final.hasPrefix("200 "), "\(answer)")
            #expect(final.contains(#""bytes":5"#) && final.contains(#""expect":null"#), "\(answer)")
            #expect(origin.answered.withLockedValue { $0 } == 2)
        }
    }

    @Test func headIsFramedWithoutABodySoTheNextAnswerParses() async throws {
        try await withGateway { port, _ in
            let answer = try await RawHTTP.exchange(
                port: port,
                "HEAD /flags/bytes/100000 HTTP/1.1\r\nHost: g\r\n\r\n" + "GET /flags/bytes/3 HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
            )
            let responses = Self.responses(answer)
            #expect(responses.count == 2, "\(answer)")
            let head = try #require(responses.first)
            #expect(head.hasPrefix("200 ") && head.lowercased().contains("content-length: 100000\r\n"), "\(answer)")
            #expect(head.hasSuffix("\r\n\r\n"), "a body followed the HEAD answer: \(answer)")
            #expect(responses.last?.hasSuffix("\r\n\r\nxxx") == true, "\(answer)")
        }
    }

    @Test func connectionCloseFromTheClientClosesAndFromTheUpstreamDoesNot() async throws {
        try await withGateway { port, origin in
            // The client's close: answered with `Connection: close`, then the gateway closes
            // (the exchange returns only at the close).
            let closed = try await RawHTTP.exchange(port: port, "GET /flags/bytes/2 HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n")
            #expect(closed.lowercased().contains("connection: close\r\n") && closed.hasSuffix("xx"), "\(closed)")
            // HTTP/1.0 without keep-alive is the same.
            let old = try await RawHTTP.exchange(port: port, "GET /flags/bytes/2 HTTP/1.0\r\nHost: g\r\n\r\n")
            #expect(old.hasSuffix("\r\n\r\nxx"), "\(old)")

            // The upstream's close is the upstream connection's business: the client's stays
            // open and its next request is answered on it.
            let both = try await RawHTTP.exchange(
                port: port,
                "GET /flags/closing HTTP/1.1\r\nHost: g\r\n\r\n" + "GET /flags/closing HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n"
            )
            let responses = Self.responses(both)
            #expect(responses.count == 2 && responses.allSatisfy { $0.hasSuffix("closing") }, "\(both)")
            #expect(responses.first?.lowercased().contains("connection: close") == false, "\(both)")
            #expect(origin.received.withLockedValue { $0 } == 4)
        }
    }

    @Test func anUpstreamThatClosesMidResponseCutsTheClientAndThePoolStartsAfresh() async throws {
        try await withGateway { port, origin in
            // 64 KiB of an announced 1 MB, then the close: the client's connection is closed
            // too, short of the length it was promised.
            let cut = try await RawHTTP.exchange(port: port, "GET /flags/cut HTTP/1.1\r\nHost: g\r\n\r\n")
            #expect(cut.hasPrefix("HTTP/1.1 200 ") && cut.lowercased().contains("content-length: 1000000"), "\(cut.prefix(300))")
            let body = try #require(cut.range(of: "\r\n\r\n")).upperBound
            #expect(cut[body...].utf8.count < 1_000_000)
            // The next request is served on a fresh upstream connection.
            for _ in 0..<3 {
                let next = try await HTTPClient.shared.get(url: "http://127.0.0.1:\(port)/flags/bytes/5").get()
                #expect(next.status == .ok && next.body.map { String(buffer: $0) } == "xxxxx")
            }
            #expect(origin.received.withLockedValue { $0 } == 4)
        }
    }
}

/// Exclusive (run alone, after the parallel pass): the stalled download pumps tens of MB into
/// the sockets on the way, and under the parallel pass's load the others' answers can pass the
/// breaker's slow-call duration (1 s), which opens it: a 503 that says nothing of stalling.
@Suite("Gateway forwarding, a stalled reader", .teardown)
struct ExclusiveGatewayStalledReaderTests {
    func withGateway(_ body: @Sendable (_ gateway: Int, _ origin: ProxyOrigin) async throws -> Void) async throws {
        try await GatewayForwardingTests().withGateway([:], body)
    }

    @Test(.timeLimit(.minutes(1)))
    func aClientThatStopsReadingDoesNotStallTheOthers() async throws {
        try await withGateway { port, origin in
            // 512 MB asked for, and only the first buffer read: back-pressure stops the upstream
            // (well before the end: the kernel's buffers on the way hold tens of MB at most).
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "GET /flags/bytes/\(512 << 20) HTTP/1.1\r\nHost: g\r\n\r\n"))
                var iterator = inbound.makeAsyncIterator()
                let first = try await iterator.next()
                #expect(first.map { String(buffer: $0) }?.hasPrefix("HTTP/1.1 200 ") == true)
                // The origin is held back: what it has written stops growing, far short of the
                // whole (what the sockets on the way buffer, not what the gateway holds).
                var last = -1
                #expect(
                    await eventually(every: .milliseconds(250)) {
                        let now = origin.bytesWritten.withLockedValue { $0 }
                        defer { last = now }
                        return now == last
                    }
                )
                #expect(last < 256 << 20, "\(last >> 20) MiB of 512 went through to a client that stopped reading")
                // Meanwhile, on both event loops, everyone else is served.
                try await withThrowingTaskGroup(of: HTTPClient.Response.self) { group in
                    for _ in 0..<40 {
                        group.addTask { try await HTTPClient.shared.get(url: "http://127.0.0.1:\(port)/flags/bytes/1000").get() }
                    }
                    for try await response in group {
                        #expect(response.status == .ok, "\(response.body.map { String(buffer: $0) } ?? "")")
                    }
                }
                // The stalled download is still far from done.
                #expect(origin.answered.withLockedValue { $0 } == 40, "received \(origin.received.withLockedValue { $0 })")
            }
        }
    }
}
