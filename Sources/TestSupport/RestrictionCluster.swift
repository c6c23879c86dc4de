import Foundation
import Shared
import Testing

/// RestrictionConsumer processes against a Redis of their own: an API instance and any
/// number of consumer-only instances.
public final class RestrictionCluster: @unchecked Sendable {
    public static let adminKey = "test-admin-key"

    public let redis: PrivateRedis
    public let environment: [String: String]
    public private(set) var api: ServiceProcess
    public private(set) var consumers: [String: ServiceProcess] = [:]

    /// - Parameters:
    ///   - role: the API instance's role: `all` runs a consumer in it, `api` leaves that to
    ///     ``startConsumer(_:environment:)``.
    public init(role: String = "all", durable: Bool = false, environment extra: [String: String] = [:]) async throws {
        redis = try await PrivateRedis.start(durable: durable)
        environment = [
            "ADMIN_API_KEYS": Self.adminKey,
            "HEALTH_INTERVAL_MS": "500",
            // Tests that are not about tripwires must not trip them.
            "TRIPWIRE_MIN_USERS": "1000000",
        ].merging(redis.environment) { $1 }.merging(extra) { $1 }
        api = try await ServiceProcess.start(
            "RestrictionConsumer",
            portVariable: "RESTRICTION_PORT",
            environment: environment.merging(["RESTRICTIONS_ROLE": role, "RESTRICTIONS_CONSUMER": "api-consumer"]) { $1 }
        )
    }

    /// Starts a consumer-only instance named `name`.
    @discardableResult
    public func startConsumer(_ name: String, environment extra: [String: String] = [:]) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
            "RestrictionConsumer",
            portVariable: "RESTRICTION_PORT",
            environment: environment.merging(["RESTRICTIONS_ROLE": "consumer", "RESTRICTIONS_CONSUMER": name]) { $1 }.merging(extra) { $1 }
        )
        consumers[name] = process
        return process
    }

    public func stop() async {
        await ServiceProcess.stopAll([api] + Array(consumers.values))
        try? await redis.stop()
    }

    // MARK: - API helpers

    /// Posts an event; returns the response.
    @discardableResult
    public func post(_ name: String, _ properties: [String: JSONValue], eventID: String? = nil) async throws -> HTTP.Result {
        var body: [String: JSONValue] = ["name": .string(name), "event_properties": .object(properties)]
        if let eventID { body["event_id"] = .string(eventID) }
        let data = try JSONEncoder().encode(JSONValue.object(body))
        return try await HTTP.post(api.baseURL + "/event", bytes: Array(data), headers: ["Content-Type": "application/json"])
    }

    public var admin: [String: String] { ["X-Api-Key": Self.adminKey] }

    /// `GET /users/{id}/restrictions` (keyed).
    public func user(_ id: String) async throws -> JSONValue {
        let path = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        return try await HTTP.get(api.baseURL + "/users/\(path)/restrictions", headers: admin).requireJSON()
    }

    /// Waits until `applied` of the user's events are applied.
    public func waitApplied(
        _ id: String,
        _ applied: Int,
        timeout: Duration = .seconds(20),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Bool {
        await eventually(timeout: timeout, sourceLocation: sourceLocation) {
            try await self.user(id)["events_applied"] == .number(Double(applied))
        }
    }

    /// `GET /stream`.
    public func stream() async throws -> JSONValue {
        try await HTTP.get(api.baseURL + "/stream", headers: admin).requireJSON()
    }

    public func can(_ access: String, _ user: String) async throws -> Bool? {
        let route = access == "can_message" ? "/canmessage" : "/canpurchase"
        let query = user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user
        guard case .bool(let allowed)? = try await HTTP.get(api.baseURL + "\(route)?user_id=\(query)").json?[access] else { return nil }
        return allowed
    }
}
