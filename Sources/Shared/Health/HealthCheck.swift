/// One dependency check behind `/health/ready` and the heartbeat's `checks`.
public struct HealthCheck: Sendable {
    public let name: String
    /// A failing required check makes the instance not ready (503); an optional one only
    /// makes it `degraded` (the service still answers, e.g. without its cache).
    public let required: Bool
    public let probe: @Sendable () async throws -> Void

    public init(name: String, required: Bool = true, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.required = required
        self.probe = probe
    }

    public static func redis(_ client: RedisClient, required: Bool = true) -> HealthCheck {
        HealthCheck(name: "redis", required: required) { try await client.ping() }
    }

    public static func postgres(_ client: PostgresClient, required: Bool = true) -> HealthCheck {
        HealthCheck(name: "postgres", required: required) { try await client.query("SELECT 1") }
    }

    /// A caller's breaker for `name`: not required (the caller answers from its fallback),
    /// but anything other than closed (or disabled) shows as `degraded`.
    public static func breaker(_ breaker: CircuitBreaker, name: String) -> HealthCheck {
        HealthCheck(name: name, required: false) {
            let state = breaker.state
            if state != .closed && state != .disabled {
                throw CircuitOpenError(dependency: name, retryAfter: .seconds(1))
            }
        }
    }
}
