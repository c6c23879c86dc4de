import AsyncHTTPClient
import HTTPTypes
import Logging
import Shared
import TestSupport
import Testing

@testable import GatewayCore

/// ``GatewayProxy/admit`` as pure logic (no Redis: the in-process limiter; no upstream: the
/// checks run before anything is sent): each check in its order, and what a refusal leaves.
@Suite("Gateway admission")
struct GatewayAdmissionTests {
    static let key = "admission-key"
    let clock = TestClock()

    func proxy(requests: ConcurrencyLimit = ConcurrencyLimit(total: 100, perClient: 2)) -> GatewayProxy {
        GatewayProxy(
            client: HTTPClient.shared,
            balancer: UpstreamBalancer(registry: nil, allowed: nil),
            breakers: BreakerBoard(
                caller: "gateway",
                instance: "t",
                redis: nil,
                registry: nil,
                metrics: ServiceMetrics(),
                logger: TestEnvironment.logger
            ),
            breakerConfiguration: .init(minimumCalls: 1),
            limiter: RateLimiter(redis: nil, keyPrefix: "t:", clock: clock, logger: TestEnvironment.logger),
            verifier: APIKeyVerifier(
                fingerprinter: KeyFingerprinter(secret: Array("s".utf8)),
                failures: AuthFailureGuard(policy: RateLimitPolicy(limit: 1_000_000, period: .seconds(60)), clock: clock)
            ),
            limits: GatewayProxy.Limits(requests: requests, streams: ConcurrencyLimit(total: 10, perClient: 1))
        )
    }

    static let route = GatewayRoute(
        prefix: "/flags",
        service: "flags",
        urls: ["http://127.0.0.1:1"],
        keys: APIKeySet([key]),
        rateLimit: RateLimitPolicy(name: "gateway", limit: 2, period: .seconds(60)),
        maxBodyBytes: 100
    )

    func status(_ body: () async throws -> Void) async -> Int? {
        do {
            try await body()
            return nil
        } catch let problem as ProblemDetails {
            return problem.status.code
        } catch is CircuitOpenError {
            return 503
        } catch {
            return -1
        }
    }

    @Test func checksRunInOrderAndARefusalSpendsNothingLater() async throws {
        let proxy = proxy()
        let big: HTTPFields = [.contentLength: "1000"]
        // The key before the size: an unkeyed oversized write is 401, not 413.
        #expect(await status { _ = try await proxy.admit(method: .post, headers: big, client: "c", route: Self.route) } == 401)
        #expect(await status { _ = try await proxy.admit(method: .post, headers: big + [.apiKey: "wrong"], client: "c", route: Self.route) } == 403)
        // The size before the rate limit: a 413 spends none of the allowance.
        for _ in 0..<3 {
            #expect(
                await status { _ = try await proxy.admit(method: .post, headers: big + [.apiKey: Self.key], client: "c", route: Self.route) } == 413
            )
        }
        // Reads need no key; two admitted (slots released), the third is 429 with headers.
        for _ in 0..<2 {
            let admission = try await proxy.admit(method: .get, headers: [:], client: "c", route: Self.route)
            #expect(admission.limitHeaders[.xRateLimitLimit] == "2")
            #expect(admission.candidates == ["http://127.0.0.1:1"])
            admission.slot.release()
            admission.breaker.release(admission.permit)
        }
        do {
            _ = try await proxy.admit(method: .get, headers: [:], client: "c", route: Self.route)
            Issue.record("a third read within the period was admitted")
        } catch let problem as ProblemDetails {
            #expect(problem.status == .tooManyRequests && problem.headers[.retryAfter] != nil)
        }
        // Another client has its own allowance, and a verified key is a client of its own.
        #expect(await status { _ = try await proxy.admit(method: .get, headers: [:], client: "d", route: Self.route) } == nil)
        #expect(await status { _ = try await proxy.admit(method: .get, headers: [.apiKey: Self.key], client: "c", route: Self.route) } == nil)
    }

    @Test func aClientsShareOfSlotsAndAnOpenBreakerRefuseWithoutCalling() async throws {
        let proxy = proxy()
        let route = GatewayRoute(prefix: "/flags", service: "flags", urls: ["http://127.0.0.1:1"])
        let first = try await proxy.admit(method: .get, headers: [:], client: "c", route: route)
        let second = try await proxy.admit(method: .get, headers: [:], client: "c", route: route)
        // Two in flight is this client's share (429: its own doing); another client gets in.
        #expect(await status { _ = try await proxy.admit(method: .get, headers: [:], client: "c", route: route) } == 429)
        let other = try await proxy.admit(method: .get, headers: [:], client: "d", route: route)
        for admission in [first, second, other] { admission.slot.release() }
        // One failure opens this breaker (minimumCalls 1): the next is refused before a slot
        // or a call, and the slot it would have taken is free.
        first.breaker.record(first.permit, outcome: .failure, duration: .zero)
        second.breaker.release(second.permit)
        other.breaker.release(other.permit)
        #expect(first.breaker.state == .open)
        for _ in 0..<3 {
            #expect(await status { _ = try await proxy.admit(method: .get, headers: [:], client: "c", route: route) } == 503)
        }
        // Those refusals kept no slot: the client's two are free for another upstream.
        let elsewhere = GatewayRoute(prefix: "/x", service: "x", urls: ["http://127.0.0.1:2"])
        let held = [
            try await proxy.admit(method: .get, headers: [:], client: "c", route: elsewhere),
            try await proxy.admit(method: .get, headers: [:], client: "c", route: elsewhere),
        ]
        for admission in held {
            admission.slot.release()
            admission.breaker.release(admission.permit)
        }
    }
}
