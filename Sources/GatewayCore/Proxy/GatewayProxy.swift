import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Shared

/// Sends one request to its route's upstream and streams the answer back.
///
/// In order: API key on writes, body size, rate limit, the upstream's breaker (open: 503 at
/// once, the upstream untouched), then the call through the pooled HTTP client, bodies
/// streamed both ways. Idempotent requests without a body are tried on the next instance when
/// one cannot be reached, within the retry budget. Only transport failures (unreachable,
/// timed out) count against the breaker: an upstream's own 5xx is its answer, passed on.
public struct GatewayProxy: Sendable {
    let client: HTTPClient
    let balancer: UpstreamBalancer
    let breakers: BreakerBoard
    let breakerConfiguration: CircuitBreaker.Configuration
    let limiter: RateLimiter?
    let apiKeys: Set<String>
    let budget: RetryBudget

    public init(
        client: HTTPClient, balancer: UpstreamBalancer, breakers: BreakerBoard,
        breakerConfiguration: CircuitBreaker.Configuration = .init(), limiter: RateLimiter?,
        apiKeys: Set<String>, budget: RetryBudget = RetryBudget()
    ) {
        self.client = client
        self.balancer = balancer
        self.breakers = breakers
        self.breakerConfiguration = breakerConfiguration
        self.limiter = limiter
        self.apiKeys = apiKeys
        self.budget = budget
    }

    /// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus the
    /// ones the gateway sets itself.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "x-forwarded-proto", "x-request-id",
    ]

    /// A request let through to an upstream: the breaker's permit to record the outcome
    /// against, the rate-limit headers to send back, where to send it.
    struct Admission {
        let breaker: CircuitBreaker
        let permit: CircuitBreaker.Permit
        let limitHeaders: HTTPFields
        let candidates: [String]
    }

    /// Answers up to this many bytes, with a `Content-Length`, are read whole before they
    /// are passed on; longer or open-ended ones are streamed.
    static let bufferedBodyLimit = 64 * 1024

    /// Methods that only read: no key needed, and retried when they carry no body.
    static func isRead(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }

    /// The checks every request passes before anything is sent upstream, in order: API key
    /// on writes, body size, rate limit, the upstream's breaker, a known instance.
    func admit(method: HTTPRequest.Method, headers: HTTPFields, clientAddress: String?, route: GatewayRoute) async throws -> Admission {
        let presented = APIKeyMiddleware.presentedKey(in: headers)
        let verifiedKey = presented.flatMap { apiKeys.contains($0) ? $0 : nil }
        if !Self.isRead(method) && route.keysOnWrites {
            guard presented != nil else { throw ProblemDetails.unauthorized("an API key is required (X-Api-Key)") }
            guard verifiedKey != nil else { throw ProblemDetails.forbidden("the API key is not valid") }
        }
        if let length = headers.first(.contentLength).flatMap(Int.init), length > route.maxBodyBytes {
            throw ProblemDetails.tooLarge(limit: route.maxBodyBytes)
        }

        var limitHeaders: HTTPFields = [:]
        if let policy = route.rateLimit, let limiter {
            let client = verifiedKey.map { "key:" + $0 } ?? "ip:" + (clientAddress ?? "unknown")
            let decision = await limiter.check(route.prefix + "|" + client, policy: policy)
            limitHeaders = decision.headers
            guard decision.allowed else { throw ProblemDetails.rateLimited(retryAfter: decision.retryAfter, headers: limitHeaders) }
        }

        let breaker = breakers.breaker(for: route.service, configuration: breakerConfiguration)
        let permit = try breaker.acquire()
        let candidates = balancer.candidates(for: route)
        guard !candidates.isEmpty else {
            // Nothing was called: the permit goes back as a success so a half-open probe
            // slot is not held forever.
            breaker.record(permit, outcome: .success, duration: .zero)
            throw DependencyUnavailableError(dependency: route.service, reason: "no instance known")
        }
        return Admission(breaker: breaker, permit: permit, limitHeaders: limitHeaders, candidates: candidates)
    }

    public func forward(_ request: Request, context: ServiceRequestContext, route: GatewayRoute, upstreamPath: Substring) async throws -> Response {
        let admission = try await admit(
            method: request.method, headers: request.headers, clientAddress: context.remoteAddress?.ipAddress, route: route
        )
        let (breaker, permit, limitHeaders, candidates) = (admission.breaker, admission.permit, admission.limitHeaders, admission.candidates)
        let length = request.headers.first(.contentLength).flatMap(Int.init)
        let hasBody = (length ?? 0) > 0 || request.headers.first(.transferEncoding) != nil

        var outgoing = HTTPClientRequest(url: "")
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers = HTTPHeaders(Self.forwardedHeaders(request.headers, clientAddress: context.remoteAddress?.ipAddress, requestID: context.requestID).map { ($0.name.rawName, $0.value) })
        if hasBody {
            outgoing.body = .stream(
                LimitedBody(base: request.body, limit: route.maxBodyBytes),
                length: length.map { .known(Int64($0)) } ?? .unknown
            )
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
                let body: ResponseBody
                if let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= Self.bufferedBodyLimit {
                    body = ResponseBody(byteBuffer: try await response.body.collect(upTo: length))
                } else {
                    body = ResponseBody(asyncSequence: response.body)
                }
                breaker.record(permit, outcome: .success, duration: ContinuousClock.now - start)
                return Response(
                    status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                    headers: responseHeaders(response.headers, adding: limitHeaders),
                    body: body
                )
            } catch let error as HTTPClientError where error == .deadlineExceeded {
                breaker.record(permit, outcome: .failure, duration: ContinuousClock.now - start)
                throw ProblemDetails(status: .gatewayTimeout, type: "/problems/upstream-timeout",
                                     detail: "\(route.service) did not answer within \(route.timeout)")
            } catch let error as LimitedBody.TooLarge {
                breaker.record(permit, outcome: .success, duration: ContinuousClock.now - start)
                throw ProblemDetails.tooLarge(limit: error.limit)
            } catch {
                attempt += 1
                if retryable, attempt <= route.retries, budget.tryWithdraw() {
                    context.logger.debug("retrying on another instance", metadata: ["gateway.service": "\(route.service)", "error": "\(error)"])
                    continue
                }
                breaker.record(permit, outcome: .failure, duration: ContinuousClock.now - start)
                context.logger.warning("upstream unreachable", metadata: ["gateway.service": "\(route.service)", "error": "\(error)"])
                throw ProblemDetails(status: .badGateway, type: "/problems/upstream-unreachable", detail: "\(route.service) could not be reached")
            }
        }
    }

    /// The request's end-to-end headers plus the gateway's `X-Forwarded-For`/`-Proto` and
    /// `X-Request-Id`.
    static func forwardedHeaders(_ incoming: HTTPFields, clientAddress: String?, requestID: String, dropping extra: Set<String> = []) -> HTTPFields {
        var headers = HTTPFields()
        // Fields named in Connection are hop-by-hop too.
        let named = Set(incoming[values: .connection].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        })
        var forwardedFor: [String] = []
        for field in incoming {
            let name = field.name.canonicalName
            if name == "x-forwarded-for" {
                forwardedFor.append(field.value)
            } else if !hopByHop.contains(name), !named.contains(name), !extra.contains(name) {
                headers.append(field)
            }
        }
        if let clientAddress { forwardedFor.append(clientAddress) }
        if !forwardedFor.isEmpty { headers[.forwardedFor] = forwardedFor.joined(separator: ", ") }
        headers[.forwardedProto] = "http"
        headers[.requestID] = requestID
        return headers
    }

    private func responseHeaders(_ upstream: HTTPHeaders, adding extra: HTTPFields) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in upstream {
            let lower = name.lowercased()
            // The gateway's own request id and rate-limit headers win over the upstream's.
            guard lower != "connection", lower != "keep-alive", lower != "transfer-encoding", lower != "x-request-id",
                  let fieldName = HTTPField.Name(name), extra[fieldName] == nil
            else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        fields.append(contentsOf: extra)
        return fields
    }
}

/// A request body that stops at `limit` bytes, for bodies without a `Content-Length`.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    struct TooLarge: Error {
        let limit: Int
    }

    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw TooLarge(limit: limit) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
