import Foundation
import Shared

/// FlagService instances started as real processes against a Redis of their own (so no
/// other test's `flags.changes` reach them) and a database of their own.
public final class FlagCluster: @unchecked Sendable {
    public static let adminKey = "test-admin-key"
    public static let clientKey = "test-client-key"

    public let redis: PrivateRedis
    public let databaseURL: String
    public let environment: [String: String]
    public private(set) var instances: [ServiceProcess]

    public var first: ServiceProcess { instances[0] }

    /// - Parameter databaseURL: nil makes a fresh database on the run's PostgreSQL.
    public init(instances count: Int = 1, databaseURL: String? = nil, environment extra: [String: String] = [:]) async throws {
        redis = try await PrivateRedis.start()
        self.databaseURL = if let databaseURL { databaseURL } else { try await TestEnvironment.freshDatabase("flags") }
        let environment = [
            "DATABASE_URL": self.databaseURL,
            "ADMIN_API_KEYS": Self.adminKey,
            "CLIENT_API_KEYS": Self.clientKey,
            "HEALTH_INTERVAL_MS": "500",
            "PG_QUERY_TIMEOUT_MS": "2000",
            "FLAGS_RESYNC_MS": "2000",
        ].merging(redis.environment) { $1 }.merging(extra) { $1 }
        self.environment = environment
        instances = try await ServiceProcess.startAll(
            "FlagService",
            portVariable: "FLAG_PORT",
            environments: Array(repeating: environment, count: count)
        )
    }

    /// Starts instance `index` again on its port (after it exited or was killed).
    public func restart(_ index: Int, waitReady: Bool = true) async throws {
        instances[index].signal(SIGKILL)
        _ = await instances[index].waitForExit(timeout: .seconds(5))
        let port = instances[index].port
        if waitReady {
            instances[index] = try await ServiceProcess.start("FlagService", portVariable: "FLAG_PORT", port: port, environment: environment)
        } else {
            instances[index] = try ServiceProcess(executable: "FlagService", portVariable: "FLAG_PORT", port: port, environment: environment)
        }
    }

    public func stop() async {
        await ServiceProcess.stopAll(instances)
        try? await redis.stop()
    }

    // MARK: - API helpers

    public var admin: [String: String] { ["X-Api-Key": Self.adminKey] }

    public func createFlag(_ json: String, instance: Int = 0) async throws -> HTTP.Result {
        try await HTTP.post(instances[instance].baseURL + "/flags", json: json, headers: admin)
    }

    public func updateFlag(_ name: String, _ json: String, instance: Int = 0, headers: [String: String] = [:]) async throws -> HTTP.Result {
        try await HTTP.send(
            instances[instance].baseURL + "/flags/" + name,
            method: .PUT,
            headers: admin.merging(headers) { $1 }.merging(["content-type": "application/json"]) { $1 },
            body: Array(json.utf8),
            timeout: .seconds(5)
        )
    }

    public func evaluate(_ user: String, _ flag: String, instance: Int = 0) async throws -> HTTP.Result {
        try await HTTP.get(instances[instance].baseURL + "/users/\(user)/flags/\(flag)")
    }
}
