import Foundation
import NIOHTTP1
import Shared

/// An AnalyticsService started as a real process against an append-only Redis of its own, a
/// database of its own (on a PostgreSQL of its own when the test stops it) and the simulated
/// external source.
public final class AnalyticsCluster: @unchecked Sendable {
    public static let adminKey = "test-admin-key"

    public let redis: PrivateRedis
    /// The PostgreSQL server when the cluster has its own.
    public let postgres: PrivatePostgres?
    public let databaseURL: String
    public let external: ServiceProcess
    public let environment: [String: String]
    public private(set) var service: ServiceProcess

    public init(ownPostgres: Bool = false, environment extra: [String: String] = [:]) async throws {
        redis = try await PrivateRedis.start(durable: true)
        if ownPostgres {
            let server = try await PrivatePostgres.start()
            postgres = server
            databaseURL = server.url
        } else {
            postgres = nil
            databaseURL = try await TestEnvironment.freshDatabase("analytics")
        }
        external = try await ServiceProcess.externalSource()
        environment = [
            "DATABASE_URL": databaseURL,
            "ADMIN_API_KEYS": Self.adminKey,
            "HEALTH_INTERVAL_MS": "500",
            "PG_QUERY_TIMEOUT_MS": "2000",
            "ANALYTICS_EXTERNAL_URL": external.baseURL + "/data",
            "ANALYTICS_EXTERNAL_TIMEOUT_MS": "300",
            "ANALYTICS_RATE_LIMIT": "1000000000/1",
        ].merging(redis.environment) { $1 }.merging(extra) { $1 }
        service = try await ServiceProcess.start("AnalyticsService", portVariable: "ANALYTICS_PORT", environment: environment)
    }

    public var baseURL: String { service.baseURL }

    /// SIGKILLs the service and starts it again on its port.
    public func restart() async throws {
        service.signal(SIGKILL)
        _ = await service.waitForExit(timeout: .seconds(5))
        service = try await ServiceProcess.start("AnalyticsService", portVariable: "ANALYTICS_PORT", port: service.port, environment: environment)
    }

    public func stop() async {
        await ServiceProcess.stopAll([service, external])
        try? await redis.stop()
        try? await postgres?.stop()
    }

    /// Changes how the external source behaves (`failure_rate`, `latency_ms`, `hang`).
    public func external(_ change: String) async throws {
        _ = try await HTTP.post(external.baseURL + "/control", json: change)
    }

    /// `POST /api/metrics` of one point of `type` now (or `at` µs).
    public func post(_ type: String, _ value: Double, at micros: Int64? = nil, headers: [String: String] = [:]) async throws -> HTTP.Result {
        let at = micros ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
        let body = #"{"type": "\#(type)", "value": \#(value), "timestamp": "\#(Timestamp.iso8601(microseconds: at))"}"#
        return try await HTTP.post(baseURL + "/api/metrics", json: body, headers: headers)
    }

    public func summary(_ query: String) async throws -> HTTP.Result {
        try await HTTP.get(baseURL + "/api/metrics/summary?" + query)
    }

    /// Every stored point of `type` as (id, value), straight from PostgreSQL.
    public func storedPoints(_ type: String) async throws -> [Int64: Double] {
        try await withPostgres(url: databaseURL) { postgres in
            let rows = try await postgres.query("SELECT id, value FROM analytics.points WHERE type = $1", [type]).rows
            var points: [Int64: Double] = [:]
            for row in rows { points[try row.decode("id")] = try row.decode("value") }
            return points
        }
    }

    /// The counts the rollups hold for `type` at each resolution (`m`, `h`, `d`).
    public func rolledUpCounts(_ type: String) async throws -> [String: Int64] {
        try await withPostgres(url: databaseURL) { postgres in
            let rows = try await postgres.query(
                "SELECT resolution::text AS r, sum(count)::bigint AS n FROM analytics.buckets WHERE type = $1 GROUP BY 1",
                [type]
            ).rows
            var counts: [String: Int64] = [:]
            for row in rows { counts[try row.decode("r")] = try row.decode("n") }
            return counts
        }
    }
}
