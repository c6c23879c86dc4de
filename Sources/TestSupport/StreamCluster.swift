import Foundation
import NIOHTTP1
import Shared

/// StreamFilter instances started as real processes against a Redis of their own (so no
/// other test's events or filter notices reach them) and a database of their own.
public final class StreamCluster: @unchecked Sendable {
    public static let adminKey = "test-admin-key"
    public static let clientKey = "test-client-key"

    public let redis: PrivateRedis
    public let databaseURL: String
    public let environment: [String: String]
    public private(set) var instances: [ServiceProcess]
    private var roles: [[String: String]]

    public var first: ServiceProcess { instances[0] }

    /// - Parameters:
    ///   - roles: one entry per instance, its own extra environment (e.g. `STREAM_ROLE`).
    ///   - durableRedis: an append-only Redis, for tests that restart it.
    ///   - databaseURL: nil makes a fresh database on the run's PostgreSQL.
    public init(
        roles: [[String: String]] = [[:]],
        durableRedis: Bool = false,
        databaseURL: String? = nil,
        environment extra: [String: String] = [:]
    ) async throws {
        redis = try await PrivateRedis.start(durable: durableRedis)
        self.databaseURL = if let databaseURL { databaseURL } else { try await TestEnvironment.freshDatabase("streams") }
        environment = [
            "DATABASE_URL": self.databaseURL,
            "ADMIN_API_KEYS": Self.adminKey,
            "CLIENT_API_KEYS": Self.clientKey,
            "HEALTH_INTERVAL_MS": "500",
            "PG_QUERY_TIMEOUT_MS": "2000",
            "STREAM_RESYNC_MS": "2000",
            "STREAM_LEASE_MS": "1500",
            "STREAM_LEASE_RENEW_MS": "300",
            "STREAM_PARTITIONS": "4",
        ].merging(redis.environment) { $1 }.merging(extra) { $1 }
        self.roles = roles
        let environment = self.environment
        instances = try await ServiceProcess.startAll(
            "StreamFilter",
            portVariable: "STREAM_PORT",
            environments: roles.map { environment.merging($0) { $1 } }
        )
    }

    /// SIGKILLs instance `index` and starts it again on its port.
    public func restart(_ index: Int) async throws {
        instances[index].signal(SIGKILL)
        _ = await instances[index].waitForExit(timeout: .seconds(5))
        instances[index] = try await ServiceProcess.start(
            "StreamFilter",
            portVariable: "STREAM_PORT",
            port: instances[index].port,
            environment: environment.merging(roles[index]) { $1 }
        )
    }

    public func stop() async {
        await ServiceProcess.stopAll(instances)
        try? await redis.stop()
    }

    // MARK: - API helpers

    public var admin: [String: String] { ["X-Api-Key": Self.adminKey] }

    /// `POST /filters`; the response must be 201.
    @discardableResult
    public func createFilter(_ json: String, instance: Int = 0) async throws -> HTTP.Result {
        let result = try await HTTP.post(instances[instance].baseURL + "/filters", json: json, headers: admin)
        guard result.status == 201 else { throw HTTP.NotJSON(status: result.status, body: result.text) }
        return result
    }

    public func send(
        _ method: HTTPMethod,
        _ path: String,
        json: String? = nil,
        instance: Int = 0,
        headers: [String: String] = [:]
    ) async throws -> HTTP.Result {
        try await HTTP.send(
            instances[instance].baseURL + path,
            method: method,
            headers: admin.merging(headers) { $1 }.merging(["content-type": "application/json"]) { $1 },
            body: json.map { Array($0.utf8) },
            timeout: .seconds(10)
        )
    }

    /// Produces `events` in batches of up to 1,000 through `POST /events`; every batch must
    /// be accepted.
    public func produce(_ events: [JSONValue], instance: Int = 0, batch: Int = 1_000) async throws {
        var start = 0
        while start < events.count {
            let end = min(events.count, start + batch)
            let body = try JSONEncoder().encode(JSONValue.array(Array(events[start..<end])))
            let result = try await HTTP.post(
                instances[instance].baseURL + "/events",
                bytes: Array(body),
                headers: ["content-type": "application/json"],
                timeout: .seconds(20)
            )
            guard result.status == 202 else { throw HTTP.NotJSON(status: result.status, body: result.text) }
            start = end
        }
    }

    public func socket(_ subscriber: String, since: String? = nil, instance: Int = 0, headers: [String: String] = [:]) -> StreamSocket {
        StreamSocket(
            "ws://127.0.0.1:\(instances[instance].port)/ws/\(subscriber)" + (since.map { "?since=\($0)" } ?? ""),
            headers: headers
        )
    }
}
