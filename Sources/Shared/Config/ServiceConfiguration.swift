import Foundation
import Logging

/// What every service of the suite reads from the environment.
///
/// | variable | default |
/// |---|---|
/// | `<SERVICE>_PORT` | per service, 8080…8087 |
/// | `HOST` | `127.0.0.1` |
/// | `REDIS_URL` | `redis://127.0.0.1:6379` |
/// | `DATABASE_URL` | `postgresql://127.0.0.1:5432/suite` |
/// | `HEALTH_INTERVAL_MS` | 500 |
/// | `ADMIN_API_KEYS` | none (comma separated) |
/// | `MAX_BODY_BYTES` | 1 MiB |
/// | `LOG_LEVEL` | `info` |
/// | `LOG_FORMAT` | `text` (or `json`) |
/// | `INSTANCE_ID` | `<hostname>-<pid>` |
/// | `ADVERTISE_URL` | `http://<HOST>:<port>` (`127.0.0.1` for a wildcard `HOST`), sent in heartbeats |
public struct ServiceConfiguration: Sendable {
    /// Short service name used in channels and metrics, e.g. `profile` ⇒ `health.profile`.
    public var service: String
    public var host: String
    public var port: Int
    public var instance: String
    /// Where other services reach this instance; the gateway routes to it.
    public var advertisedURL: String
    public var version: String
    public var redis: RedisClient.Configuration
    public var postgres: PostgresClient.Configuration
    public var healthInterval: Duration
    public var adminAPIKeys: Set<String>
    public var maxBodyBytes: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var environment: EnvironmentReader

    public init(
        service: String,
        portVariable: String,
        defaultPort: Int,
        environment env: EnvironmentReader = EnvironmentReader()
    ) {
        self.service = service
        self.host = env.string("HOST", default: "127.0.0.1")
        self.port = env.int(portVariable, default: defaultPort)
        self.instance = env.string("INSTANCE_ID") ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let reachableHost = ["0.0.0.0", "::", "*"].contains(host) ? "127.0.0.1" : host
        self.advertisedURL = env.string("ADVERTISE_URL") ?? "http://\(reachableHost.contains(":") ? "[\(reachableHost)]" : reachableHost):\(port)"
        self.version = env.string("SERVICE_VERSION", default: SuiteVersion.current)
        self.redis = RedisClient.Configuration(environment: env)
        self.postgres = PostgresClient.Configuration(environment: env, applicationName: service)
        self.healthInterval = env.milliseconds("HEALTH_INTERVAL_MS", default: .milliseconds(500))
        self.adminAPIKeys = Set(env.list("ADMIN_API_KEYS"))
        self.maxBodyBytes = env.int("MAX_BODY_BYTES", default: 1 << 20)
        self.logLevel = env.string("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        self.logFormat = env.string("LOG_FORMAT").flatMap { LogFormat(rawValue: $0.lowercased()) } ?? .text
        self.environment = env
    }
}

/// The suite's version, reported in heartbeats and `/health`.
public enum SuiteVersion {
    public static let current = "0.1.0"
}
