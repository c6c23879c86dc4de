import Foundation
import Logging
import NIOConcurrencyHelpers
import Shared

/// Summaries read through a Redis cache: fresh for `ttl`, kept `staleFor` longer to answer
/// when they cannot be computed (stale-if-error).
///
/// Requests for the same key while one is being answered join it (single flight per
/// instance): the flight looks in Redis, computes on a miss and stores the result before it
/// lands, so however many requests miss at once, one computation runs. Redis down means no
/// caching, never an error.
final class SummaryCache: Sendable {
    /// `ANALYTICS_CACHE_TTL_MS` (30000), `ANALYTICS_CACHE_STALE_MS` (86400000).
    struct Configuration: Sendable {
        var ttl: Duration = .seconds(30)
        var staleFor: Duration = .seconds(86_400)
    }

    /// How an answer was found, for `Cache-Status` and metrics.
    enum Outcome: String, Sendable {
        case hit, miss, stale, uncached
    }

    struct Answer: Sendable {
        var body: JSONValue
        var outcome: Outcome
        /// Seconds since it was computed.
        var age: Int64
        /// Seconds of freshness left (negative when stale).
        var ttl: Int64
        /// It joined another request's flight.
        var collapsed = false
    }

    let configuration: Configuration
    private let redis: RedisClient
    private let metrics: AnalyticsMetrics
    private let logger: Logger
    private let flights = NIOLockedValueBox<[String: Task<Answer, any Error>]>([:])

    init(redis: RedisClient, configuration: Configuration, metrics: AnalyticsMetrics, logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    func answer(_ key: String, compute: @escaping @Sendable () async throws -> JSONValue) async throws -> Answer {
        let (flight, joined) = flights.withLockedValue { running -> (Task<Answer, any Error>, Bool) in
            if let flight = running[key] { return (flight, true) }
            let task = Task { [self] in
                defer { _ = flights.withLockedValue { $0.removeValue(forKey: key) } }
                return try await fly(key, compute: compute)
            }
            running[key] = task
            return (task, false)
        }
        var answer = try await flight.value
        answer.collapsed = joined
        metrics.cache(answer.outcome, collapsed: joined)
        return answer
    }

    private func fly(_ key: String, compute: @Sendable () async throws -> JSONValue) async throws -> Answer {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var cached: (body: JSONValue, at: Int64)?
        var reachable = true
        do {
            if let bytes = try await redis.get(key), let entry = try? JSONValue.parse(Data(bytes)),
                let at = entry["at"]?.double, let body = entry["body"]
            {
                cached = (body, Int64(at))
            }
        } catch {
            reachable = false
            logger.debug("summary cache unreachable", metadata: ["error": "\(error)"])
        }
        let ttl = configuration.ttl.millisecondsRoundedUp
        if let cached, now - cached.at < ttl {
            return Answer(body: cached.body, outcome: .hit, age: (now - cached.at) / 1000, ttl: (ttl - (now - cached.at)) / 1000)
        }
        let body: JSONValue
        do {
            metrics.computations.increment()
            body = try await compute()
        } catch {
            guard let cached else { throw error }
            logger.notice("summary served stale", metadata: ["analytics.cache_key": "\(key)", "error": "\(error)"])
            return Answer(body: cached.body, outcome: .stale, age: (now - cached.at) / 1000, ttl: (ttl - (now - cached.at)) / 1000)
        }
        guard reachable else { return Answer(body: body, outcome: .uncached, age: 0, ttl: 0) }
        do {
            let entry: JSONValue = ["at": .integer(now), "body": body]
            try await redis.set(
                key,
                try String(decoding: JSONEncoder().encode(entry), as: UTF8.self),
                expiry: configuration.ttl + configuration.staleFor
            )
        } catch {
            return Answer(body: body, outcome: .uncached, age: 0, ttl: 0)
        }
        return Answer(body: body, outcome: .miss, age: 0, ttl: ttl / 1000)
    }
}

extension SummaryCache.Answer {
    /// `Cache-Status` (RFC 9211) as this cache names it, e.g. `analytics; hit; ttl=12`.
    var cacheStatus: String {
        var parts = ["analytics"]
        switch outcome {
        case .hit: parts += ["hit", "ttl=\(ttl)"]
        case .miss: parts += ["fwd=miss", "stored"]
        case .stale: parts += ["hit", "ttl=\(ttl)", "detail=stale-if-error"]
        case .uncached: parts += ["fwd=miss", "detail=cache-unavailable"]
        }
        if collapsed { parts.append("collapsed") }
        return parts.joined(separator: "; ")
    }
}
