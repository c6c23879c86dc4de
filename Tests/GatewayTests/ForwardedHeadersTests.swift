import HTTPTypes
import NIOHTTP1
import Shared
import Testing

@testable import GatewayCore

@Suite("Gateway forwarded headers")
struct ForwardedHeadersTests {
    static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        HTTPFields(pairs.map { HTTPField(name: HTTPField.Name($0.0)!, value: $0.1) })
    }

    @Test func hopByHopAndClientForwardingHeadersAreDroppedOnTheWayIn() {
        let incoming = Self.fields([
            ("Connection", "keep-alive, X-Secret"), ("X-Secret", "s"), ("Keep-Alive", "5"), ("TE", "trailers"), ("Upgrade", "h2c"),
            ("Forwarded", "for=1.2.3.4"), ("X-Real-IP", "1.2.3.4"), ("X-Forwarded-Host", "evil"), ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-For", "1.2.3.4"), ("Proxy-Authorization", "x"), ("Accept", "application/json"), ("Cookie", "c=1"),
        ])
        let out = GatewayProxy.forwardedHeaders(incoming, peer: "127.0.0.9", trusted: .none, requestID: "r1")
        let names = Set(out.map { $0.name.canonicalName })
        #expect(names == ["accept", "cookie", "x-forwarded-for", "x-forwarded-proto", "x-request-id"])
        // An untrusted client's X-Forwarded-For is replaced, not extended.
        #expect(out[.forwardedFor] == "127.0.0.9")
        #expect(out[.forwardedProto] == "http")
        #expect(out[.requestID] == "r1")
    }

    @Test func aTrustedProxysForwardedForIsExtended() throws {
        let trusted = try TrustedProxies(parsing: ["10.0.0.0/8"])
        let out = GatewayProxy.forwardedHeaders(Self.fields([("X-Forwarded-For", "203.0.113.7")]), peer: "10.1.1.1", trusted: trusted, requestID: "r")
        #expect(out[.forwardedFor] == "203.0.113.7, 10.1.1.1")
        #expect(trusted.client(peer: "10.1.1.1", forwardedFor: ["198.51.100.1, 203.0.113.7, 10.2.2.2"]) == "203.0.113.7")
        #expect(trusted.client(peer: "192.0.2.1", forwardedFor: ["203.0.113.7"]) == "192.0.2.1")
    }

    @Test func hopByHopHeadersAreDroppedOnTheWayOut() {
        let upstream = HTTPHeaders([
            ("Connection", "close, X-Internal"), ("X-Internal", "secret"), ("Upgrade", "h2c"), ("Proxy-Authenticate", "Basic"),
            ("Trailer", "X-T"), ("Keep-Alive", "5"), ("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain"),
            ("X-Request-Id", "upstream's"), ("X-RateLimit-Limit", "1"),
        ])
        let out = GatewayProxy.responseHeaders(upstream, adding: Self.fields([("X-RateLimit-Limit", "5")]))
        #expect(Set(out.map { $0.name.canonicalName }) == ["content-type", "x-ratelimit-limit"])
        #expect(out[values: HTTPField.Name("X-RateLimit-Limit")!] == ["5"])
    }

    @Test func ipv6ClientsShareTheirSlash64() {
        #expect(TrustedProxies.limitKey("2001:db8:1:2:aaaa::1") == TrustedProxies.limitKey("2001:db8:1:2:ffff:1:2:3"))
        #expect(TrustedProxies.limitKey("2001:db8:1:2::1") != TrustedProxies.limitKey("2001:db8:1:3::1"))
        #expect(TrustedProxies.limitKey("198.51.100.4") == "198.51.100.4")
        #expect(TrustedProxies.limitKey("::ffff:198.51.100.4") == "198.51.100.4")
    }
}
