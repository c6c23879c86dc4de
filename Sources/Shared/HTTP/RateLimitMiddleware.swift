import HTTPTypes
import Hummingbird

/// Applies a GCRA policy per client: the API key once ``APIKeyMiddleware`` has verified it,
/// else the client address. An unverified `X-Api-Key` header counts for nothing: otherwise a
/// client could mint a fresh allowance with every made-up key. Every response carries the
/// policy headers; a refused request gets 429.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let limiter: RateLimiter
    let policy: RateLimitPolicy

    public init(limiter: RateLimiter, policy: RateLimitPolicy) {
        self.limiter = limiter
        self.policy = policy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let decision = await limiter.check(Self.clientKey(request, context: context), policy: policy)
        let headers = decision.headers
        guard decision.allowed else {
            throw ProblemDetails.rateLimited(retryAfter: decision.retryAfter, headers: headers)
        }
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// `key:<fingerprint of the verified key>` or `ip:<address, an IPv6 client's /64>`.
    public static func clientKey(_ request: Request, context: Context) -> String {
        if let key = context.apiKeyID { return "key:" + key }
        return "ip:" + context.clientBucket
    }
}

extension RateLimitDecision {
    /// `RateLimit-Policy` and `RateLimit` (IETF httpapi ratelimit-headers draft) and the
    /// widely used `X-RateLimit-*` trio. Times are whole seconds, rounded up.
    public var headers: HTTPFields {
        let reset = resetAfter <= .zero ? 0 : resetAfter.wholeSecondsRoundedUp
        var fields = HTTPFields()
        fields[.rateLimitPolicy] = "\"\(policy.name)\";q=\(policy.limit);w=\(policy.period.wholeSecondsRoundedUp)"
        fields[.rateLimit] = "\"\(policy.name)\";r=\(remaining);t=\(reset)"
        fields[.xRateLimitLimit] = String(policy.limit)
        fields[.xRateLimitRemaining] = String(remaining)
        fields[.xRateLimitReset] = String(reset)
        return fields
    }
}
