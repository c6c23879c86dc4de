import Shared

/// StreamFilter's settings, read from the environment: so far only the platform's
/// (``ServiceConfiguration``), with `STREAM_PORT` 8084.
public struct StreamConfiguration: Sendable {
    public var service: ServiceConfiguration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        service = try .load(service: "stream", portVariable: "STREAM_PORT", defaultPort: 8084, environment: env)
    }
}
