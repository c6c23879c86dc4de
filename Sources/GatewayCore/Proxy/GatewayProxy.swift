import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Shared

/// The proxy's rules, shared by both paths: admission, the headers forwarded each way, the
/// breakers, balancing and the retry budget. Most requests take the forwarding path
/// (``ForwardingHandler``, on the connection's event loop); ``forward(_:context:route:upstreamPath:)``
/// is the router's path, for what reaches the router instead (a route whose upstream is
/// `https://`, or a test of the router alone), through async-http-client.
///
/// The router's path sends one request to its route's upstream and streams the answer back.
///
/// In order: the route's API keys (on writes, or on every method where the route says so),
/// body size, rate limit, a slot of the client's share, the upstream's breaker (open: 503 at
/// once, the upstream untouched), then the call through the pooled HTTP client, bodies
/// streamed both ways. Idempotent requests without a body are tried on the next instance when
/// one cannot be reached, within the retry budget. Only the upstream's own failures
/// (unreachable, timed out) count against the breaker: an upstream's 5xx is its answer,
/// passed on, and what the client did (left, sent its body too slowly or too large) or a
/// wait for a free connection says nothing about the upstream.
///
/// Event streams (`Accept: text/event-stream`) go through a client of their own with its
/// own bounded pool, so streams held open for hours never take the connections ordinary
/// requests need; both pools are shared out per client (``ConcurrencyLimit``).
struct GatewayProxy: Sendable {
    /// How the proxy shares its upstream connections out.
    struct Limits: Sendable {
        /// Requests in flight through the main pool: in all, and per client.
        var requests: ConcurrencyLimit
        /// Event streams open at once: in all (at most the stream pool's size), and per client.
        var streams: ConcurrencyLimit

    }

    let client: HTTPClient
    let streamClient: HTTPClient
    let balancer: UpstreamBalancer
    let breakers: BreakerBoard
    let breakerConfiguration: CircuitBreaker.Configuration
    let limiter: RateLimiter?
    let verifier: APIKeyVerifier
    let trustedProxies: TrustedProxies
    let limits: Limits
    let budget: RetryBudget

    init(
        client: HTTPClient,
        streamClient: HTTPClient? = nil,
        balancer: UpstreamBalancer,
        breakers: BreakerBoard,
        breakerConfiguration: CircuitBreaker.Configuration = .init(),
        limiter: RateLimiter?,
        verifier: APIKeyVerifier,
        trustedProxies: TrustedProxies = .none,
        limits: Limits,
        budget: RetryBudget = RetryBudget()
    ) {
        self.client = client
        self.streamClient = streamClient ?? client
        self.balancer = balancer
        self.breakers = breakers
        self.breakerConfiguration = breakerConfiguration
        self.limiter = limiter
        self.verifier = verifier
        self.trustedProxies = trustedProxies
        self.limits = limits
        self.budget = budget
    }

    /// Headers that describe one connection or one hop, never forwarded either way (RFC 9110
    /// §7.6.1), plus those the gateway sets itself; fields named in `Connection` are dropped
    /// too.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "x-request-id",
    ]
    /// Request fields a client may not set for the upstream: the gateway's own framing and
    /// forwarding headers, and other spellings of "where this came from" that an upstream
    /// might believe.
    static let requestOnly: Set<String> = [
        "host", "content-length", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded",
    ]

    /// A request let through to an upstream: the breaker's permit to record the outcome
    /// against, the rate-limit headers to send back, where to send it, the client's slot.
    struct Admission {
        let breaker: CircuitBreaker
        let permit: CircuitBreaker.Permit
        let limitHeaders: HTTPFields
        let candidates: [String]
        let slot: ConcurrencyLimit.Slot
        /// An event stream (`Accept: text/event-stream`): it goes through the stream client.
        let streaming: Bool
    }

    /// Answers up to this many bytes, with a `Content-Length`, are read whole before they
    /// are passed on; longer or open-ended ones are streamed.
    static let bufferedBodyLimit = 64 * 1024

    /// Methods that only read: no key needed unless the route keys reads, and retried when
    /// they carry no body.
    static func isRead(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    static func isEventStream(_ headers: HTTPFields) -> Bool {
        headers[values: .accept].contains { $0.lowercased().contains("text/event-stream") }
    }

    /// The checks every request passes before anything is sent upstream, in order: API key,
    /// body size, rate limit, a slot of the client's share, the upstream's breaker, a known
    /// instance. `client` is the client's address bucket.
    func admit(
        method: HTTPRequest.Method,
        headers: HTTPFields,
        client: String,
        route: GatewayRoute,
        slots: ConcurrencyLimit? = nil
    ) async throws -> Admission {
        let bucket = try checkKeyAndSize(method: method, headers: headers, client: client, route: route)
        let limitHeaders = try await checkRateLimit(route: route, bucket: bucket)
        return try reserve(headers: headers, client: client, route: route, limitHeaders: limitHeaders, slots: slots)
    }

    /// The first checks, which cost nothing to undo: the API key and the declared body size.
    /// Returns the bucket the rate limit counts the request in.
    func checkKeyAndSize(method: HTTPRequest.Method, headers: HTTPFields, client: String, route: GatewayRoute) throws -> String {
        let keyID = try verifier.verify(
            headers,
            client: client,
            required: route.keysOnReads || (!Self.isRead(method) && route.keysOnWrites),
            accepted: route.keys
        )
        if let length = headers.first(.contentLength).flatMap(Int.init), length > route.maxBodyBytes {
            throw ProblemDetails.tooLarge(limit: route.maxBodyBytes)
        }
        return keyID.map { "key:" + $0 } ?? "ip:" + client
    }

    /// Whether `route`'s requests wait for a rate-limit decision.
    func isLimited(_ route: GatewayRoute) -> Bool { route.rateLimit != nil && limiter != nil }

    /// The route's rate limit for `bucket`: the headers to send back, or the 429 thrown.
    func checkRateLimit(route: GatewayRoute, bucket: String) async throws -> HTTPFields {
        guard let policy = route.rateLimit, let limiter else { return [:] }
        let decision = await limiter.check(route.prefix + "|" + bucket, policy: policy)
        guard decision.allowed else { throw ProblemDetails.rateLimited(retryAfter: decision.retryAfter, headers: decision.headers) }
        return decision.headers
    }

    /// The last checks, which hold something until the exchange is over: a slot of the
    /// client's share, the upstream's breaker, a known instance. Whatever was taken is given
    /// back when a later check refuses.
    func reserve(
        headers: HTTPFields,
        client: String,
        route: GatewayRoute,
        limitHeaders: HTTPFields,
        slots: ConcurrencyLimit? = nil
    ) throws
        -> Admission
    {
        let streaming = Self.isEventStream(headers)
        let slot: ConcurrencyLimit.Slot
        switch (slots ?? (streaming ? limits.streams : limits.requests)).acquire(client) {
        case .success(let held): slot = held
        case .failure(let refusal): throw ProblemDetails.noSlot(refusal, what: streaming ? "event streams" : "requests")
        }

        let breaker = breakers.breaker(for: route.service, configuration: breakerConfiguration)
        let permit: CircuitBreaker.Permit
        do { permit = try breaker.acquire() } catch {
            slot.release()
            throw error
        }
        let candidates = balancer.candidates(for: route)
        guard !candidates.isEmpty else {
            // Nothing was called: the permit goes back without an outcome.
            breaker.release(permit)
            slot.release()
            throw DependencyUnavailableError(dependency: route.service, reason: "no instance known")
        }
        return Admission(breaker: breaker, permit: permit, limitHeaders: limitHeaders, candidates: candidates, slot: slot, streaming: streaming)
    }

    func forward(_ request: Request, context: ServiceRequestContext, route: GatewayRoute, upstreamPath: Substring) async throws -> Response {
        let admission = try await admit(method: request.method, headers: request.headers, client: context.clientBucket, route: route)
        let (breaker, permit, limitHeaders, candidates, slot) = (
            admission.breaker, admission.permit, admission.limitHeaders, admission.candidates, admission.slot
        )
        let length = request.headers.first(.contentLength).flatMap(Int.init)
        let hasBody = (length ?? 0) > 0 || request.headers.first(.transferEncoding) != nil
        let client = admission.streaming ? streamClient : self.client

        var outgoing = HTTPClientRequest(url: "")
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers = HTTPHeaders(
            Self.forwardedHeaders(request.headers, peer: context.remoteAddress?.ipAddress, trusted: trustedProxies, requestID: context.requestID).map
            { ($0.name.rawName, $0.value) }
        )
        let body = hasBody ? LimitedBody(base: request.body, limit: route.maxBodyBytes) : nil
        if let body {
            outgoing.body = .stream(body, length: length.map { .known(Int64($0)) } ?? .unknown)
        }
        let target = String(upstreamPath) + (request.uri.query.map { "?" + $0 } ?? "")
        let retryable = Self.isRead(request.method) && !hasBody
        budget.recordAttempt()

        let start = ContinuousClock.now
        var attempt = 0
        while true {
            outgoing.url = candidates[attempt % candidates.count] + target
            do {
                let response = try await client.execute(outgoing, timeout: TimeAmount(route.timeout), logger: context.logger)
                // A small answer of known length is read whole and sent in one write: the
                // same bytes, without a hop through the client's body stream per chunk.
                let answer: ResponseBody
                if let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= Self.bufferedBodyLimit {
                    answer = ResponseBody(byteBuffer: try await response.body.collect(upTo: length))
                    slot.release()
                } else {
                    // The slot is the client's until the last byte is written or it leaves.
                    let upstreamBody = response.body
                    answer = ResponseBody { writer in
                        defer { slot.release() }
                        for try await chunk in upstreamBody { try await writer.write(chunk) }
                        try await writer.finish(nil)
                    }
                }
                breaker.record(permit, outcome: .success, duration: ContinuousClock.now - start)
                return Response(
                    status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                    headers: Self.responseHeaders(response.headers, adding: limitHeaders),
                    body: answer
                )
            } catch {
                if let clientSide = Self.clientSide(error, body: body) {
                    // The client's doing (or a wait for a local connection): the upstream is
                    // neither blamed nor credited.
                    breaker.release(permit)
                    slot.release()
                    throw clientSide
                }
                if let error = error as? HTTPClientError, error == .deadlineExceeded {
                    breaker.record(permit, outcome: .failure, duration: ContinuousClock.now - start)
                    slot.release()
                    throw ProblemDetails(
                        status: .gatewayTimeout,
                        type: "/problems/upstream-timeout",
                        detail: "\(route.service) did not answer within \(route.timeout)"
                    )
                }
                attempt += 1
                if retryable, attempt <= route.retries, budget.tryWithdraw() {
                    context.logger.debug("retrying on another instance", metadata: ["gateway.service": "\(route.service)", "error": "\(error)"])
                    continue
                }
                breaker.record(permit, outcome: .failure, duration: ContinuousClock.now - start)
                slot.release()
                context.logger.warning("upstream unreachable", metadata: ["gateway.service": "\(route.service)", "error": "\(error)"])
                throw ProblemDetails(status: .badGateway, type: "/problems/upstream-unreachable", detail: "\(route.service) could not be reached")
            }
        }
    }

    /// The answer for an error that is the client's (or the gateway's own queue's), not the
    /// upstream's; nil for an upstream failure.
    static func clientSide(_ error: any Error, body: LimitedBody?) -> ProblemDetails? {
        if let error = error as? LimitedBody.TooLarge { return ProblemDetails.tooLarge(limit: error.limit) }
        if error is LimitedBody.ClientFailed {
            return ProblemDetails(status: .badRequest, type: "/problems/incomplete-body", detail: "the request body ended early")
        }
        if let error = error as? HTTPClientError {
            if error == .getConnectionFromPoolTimeout {
                return ProblemDetails(
                    status: .serviceUnavailable,
                    type: "/problems/busy",
                    detail: "no upstream connection was free in time",
                    headers: [.retryAfter: "1"]
                )
            }
            // The deadline passed while the client was still sending its body.
            if error == .deadlineExceeded, let body, !body.progress.finished {
                return ProblemDetails(status: .requestTimeout, type: "/problems/request-timeout", detail: "the request body did not arrive in time")
            }
        }
        return nil
    }

    /// The request's end-to-end headers plus the gateway's `X-Forwarded-For`/`-Proto` and
    /// `X-Request-Id`. `X-Forwarded-For` is extended only when the peer is a trusted proxy;
    /// from anyone else it is replaced by the peer's address, so a client cannot put words in
    /// the upstream's mouth.
    static func forwardedHeaders(
        _ incoming: HTTPFields,
        peer: String?,
        trusted trustedProxies: TrustedProxies,
        requestID: String,
        dropping extra: Set<String> = []
    ) -> HTTPFields {
        var headers = HTTPFields()
        let named = connectionNamed(incoming[values: .connection])
        let believed = peer.map(trustedProxies.contains) ?? false
        var forwardedFor: [String] = []
        for field in incoming {
            let name = field.name.canonicalName
            if name == "x-forwarded-for" {
                if believed { forwardedFor.append(field.value) }
            } else if !hopByHop.contains(name), !requestOnly.contains(name), !named.contains(name), !extra.contains(name) {
                headers.append(field)
            }
        }
        if let peer { forwardedFor.append(peer) }
        if !forwardedFor.isEmpty { headers[.forwardedFor] = forwardedFor.joined(separator: ", ") }
        headers[.forwardedProto] = "http"
        headers[.requestID] = requestID
        return headers
    }

    /// The field names listed in `Connection` values, lowercased.
    static func connectionNamed(_ values: some Sequence<String>) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    static func responseHeaders(_ upstream: HTTPHeaders, adding extra: HTTPFields) -> HTTPFields {
        var fields = HTTPFields()
        let named = connectionNamed(upstream["connection"])
        for (name, value) in upstream {
            let lower = name.lowercased()
            // The gateway's own request id and rate-limit headers win over the upstream's.
            guard !hopByHop.contains(lower), !named.contains(lower),
                let fieldName = HTTPField.Name(name), extra[fieldName] == nil
            else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        fields.append(contentsOf: extra)
        return fields
    }
}
