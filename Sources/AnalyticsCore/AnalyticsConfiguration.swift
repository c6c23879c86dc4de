import Shared

/// AnalyticsService's settings, read from the environment: so far only the platform's
/// (``ServiceConfiguration``), with `ANALYTICS_PORT` 8083.
public struct AnalyticsConfiguration: Sendable {
    public var service: ServiceConfiguration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        service = try .load(service: "analytics", portVariable: "ANALYTICS_PORT", defaultPort: 8083, environment: env)
    }
}
