import Foundation
import Hummingbird
import Shared

/// `POST /api/metrics` (one point) and `POST /api/metrics/batch` (a JSON array of up to
/// ``maxBatch``, all or nothing): validated, rate limited, stored, then 201.
///
/// The limit is per verified API key (`X-Api-Key` of `CLIENT_API_KEYS` or an admin key),
/// else per client address; a batch takes one unit per point and is admitted whole or not at
/// all. Only valid requests take from the allowance. Every answer carries the limit's headers.
struct MetricsAPI: Sendable {
    static let maxBatch = 1_000

    let writer: PointWriter
    let limiter: RateLimiter
    let policy: RateLimitPolicy
    let keys: APIKeyVerifier
    let clientKeys: APIKeySet
    let window: AcceptedWindow
    let metrics: AnalyticsMetrics

    func register(on router: some RouterMethods<ServiceRequestContext>) {
        router.post("/api/metrics") { request, context in
            let body = try await request.decodeJSONValue(context: context)
            let point = try MetricPoint(json: body, now: Self.now(), window: window)
            let headers = try await admit(request, context: context, cost: 1)
            let ids = try await store([point])
            return try Response.json(point.json(id: ids[0]), status: .created, headers: headers)
        }
        router.post("/api/metrics/batch") { request, context in
            let body = try await request.decodeJSONValue(context: context)
            guard case .array(let items) = body else { throw JSONFieldError(field: nil, "a batch is a JSON array of points") }
            guard !items.isEmpty else { throw JSONFieldError(field: "[0]", "a batch must not be empty") }
            guard items.count <= Self.maxBatch else { throw JSONFieldError(field: "[\(Self.maxBatch)]", "at most \(Self.maxBatch) points per batch") }
            let now = Self.now()
            let points = try items.enumerated().map { index, item in try MetricPoint(json: item, path: "[\(index)]", now: now, window: window) }
            guard points.count <= policy.limit else {
                throw ProblemDetails(
                    status: .unprocessableContent,
                    type: "/problems/batch-over-rate-limit",
                    detail:
                        "a batch of \(points.count) points is more than the rate limit allows at once (\(policy.limit) per \(policy.period.wholeSecondsRoundedUp) s)"
                )
            }
            let headers = try await admit(request, context: context, cost: points.count)
            let ids = try await store(points)
            let stored = zip(points, ids).map { $0.json(id: $1) }
            return try Response.json(
                ["count": .integer(Int64(points.count)), "points": .array(stored)] as JSONValue,
                status: .created,
                headers: headers
            )
        }
    }

    /// Takes `cost` from the client's allowance: its headers, or 429 with `Retry-After`.
    private func admit(_ request: Request, context: ServiceRequestContext, cost: Int) async throws -> HTTPFields {
        var context = context
        context.apiKeyID = try keys.verify(request.headers, client: context.clientBucket, required: false, accepted: clientKeys)
        let decision = await limiter.check(RateLimitMiddleware.clientKey(request, context: context), policy: policy, cost: cost)
        guard decision.allowed else {
            metrics.pointsRateLimited.increment(by: Int64(cost))
            throw ProblemDetails.rateLimited(retryAfter: decision.retryAfter, headers: decision.headers)
        }
        return decision.headers
    }

    private func store(_ points: [MetricPoint]) async throws -> [Int64] {
        do {
            let ids = try await writer.write(points)
            metrics.pointsAccepted.increment(by: Int64(points.count))
            return ids
        } catch let error as PostgresError {
            throw error.asUnavailable
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}
