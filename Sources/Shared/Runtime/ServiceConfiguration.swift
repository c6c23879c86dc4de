import Foundation
import Logging

/// What every service of the suite reads from the environment.
///
/// | variable | default |
/// |---|---|
/// | `<SERVICE>_PORT` | per service, 8080…8087 |
/// | `HOST` | `127.0.0.1` |
/// | `REDIS_URL` | `redis://127.0.0.1:6379` |
/// | `REDIS_CLUSTER_NODES` | none: one Redis at `REDIS_URL`; `host:port,…` seeds a Redis Cluster, reached with `REDIS_URL`'s credentials |
/// | `DATABASE_URL` | `postgresql://127.0.0.1:5432/suite` |
/// | `HEALTH_INTERVAL_MS` | 500 |
/// | `ADMIN_API_KEYS` | none (comma separated); held as digests, never logged |
/// | `API_KEY_FINGERPRINT_SECRET` | derived from the keys (see ``KeyFingerprinter``) |
/// | `AUTH_FAILURE_LIMIT` | `20/60`: refused key checks per client address per seconds |
/// | `TRUSTED_PROXIES` | none: addresses or CIDR networks whose `X-Forwarded-For` counts |
/// | `MAX_BODY_BYTES` | 1 MiB |
/// | `LOG_LEVEL` | `info` |
/// | `LOG_FORMAT` | `text` (or `json`) |
/// | `INSTANCE_ID` | `<hostname>-<pid>` |
/// | `ADVERTISE_URL` | `http://<HOST>:<port>`, sent in heartbeats; for a wildcard `HOST` the first non-loopback address of the machine (a container's own), else loopback |
/// | `HTTP_IDLE_TIMEOUT_MS`, `HTTP_HEADER_TIMEOUT_MS`, `HTTP_MAX_CONNECTIONS` | see ``ConnectionLimits`` |
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
    /// `ADMIN_API_KEYS`, as digests.
    public var adminAPIKeys: APIKeySet
    /// Names keys in Redis, logs and audit records.
    public var keyFingerprinter: KeyFingerprinter
    /// Refused key checks allowed per client address.
    public var authFailureLimit: RateLimitPolicy
    public var trustedProxies: TrustedProxies
    /// What ``validated()`` refuses: settings that could not be read or are out of range.
    public private(set) var problems: [String] = []
    public var maxBodyBytes: Int
    /// Idle and head timeouts and the cap on client connections.
    public var connectionLimits: ConnectionLimits
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var environment: EnvironmentReader
    /// Where the port was read from, for error messages.
    public var portVariable: String

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
        if let advertised = env.string("ADVERTISE_URL") {
            self.advertisedURL = advertised
        } else {
            let reachable = ["0.0.0.0", "::", "*"].contains(host) ? Self.reachableHost(forWildcard: host) : host
            self.advertisedURL = "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)"
        }
        self.version = env.string("SERVICE_VERSION", default: SuiteVersion.current)
        self.redis = RedisClient.Configuration(environment: env)
        self.postgres = PostgresClient.Configuration(environment: env, applicationName: service)
        self.healthInterval = env.milliseconds("HEALTH_INTERVAL_MS", default: .milliseconds(500))
        let adminKeys = env.list("ADMIN_API_KEYS")
        self.adminAPIKeys = APIKeySet(adminKeys)
        self.keyFingerprinter = KeyFingerprinter(environment: env, keys: adminKeys + env.list("GATEWAY_API_KEYS") + env.list("CLIENT_API_KEYS"))
        self.authFailureLimit = AuthFailureGuard.defaultPolicy
        self.trustedProxies = .none
        self.maxBodyBytes = env.int("MAX_BODY_BYTES", default: 1 << 20)
        self.connectionLimits = ConnectionLimits(environment: env)
        self.logLevel = env.string("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        self.logFormat = env.string("LOG_FORMAT").flatMap { LogFormat(rawValue: $0.lowercased()) } ?? .text
        self.environment = env
        self.portVariable = portVariable
        do {
            if let limit = env.string("AUTH_FAILURE_LIMIT") { authFailureLimit = try RateLimitPolicy(parsing: limit, name: "auth-failures") }
        } catch { problems.append("AUTH_FAILURE_LIMIT: \(error)") }
        if let url = env.string("REDIS_URL"), RedisEndpoint(url: url) == nil { problems.append("REDIS_URL: not a redis:// URL") }
        if let nodes = env.string("REDIS_CLUSTER_NODES"), RedisClient.Configuration.clusterNodes(nodes, credentials: RedisEndpoint()) == nil {
            problems.append("REDIS_CLUSTER_NODES: host:port entries, comma separated")
        }
        do {
            trustedProxies = try TrustedProxies(parsing: env.list("TRUSTED_PROXIES"))
        } catch { problems.append("\(error)") }
    }

    /// This configuration, or the first setting that cannot be used. Ranges are generous;
    /// they keep out values whose arithmetic would trap later (a heartbeat interval of
    /// 2^63 ms, a pool of -1 connections).
    public func validated() throws -> ServiceConfiguration {
        if let problem = problems.first { throw ConfigurationError(problem) }
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigurationError(message) } }
        let hour = Duration.seconds(3600)
        try check((0...65535).contains(port), "\(portVariable): 0 to 65535, not \(port)")
        try check(healthInterval >= .milliseconds(10) && healthInterval <= hour, "HEALTH_INTERVAL_MS: 10 to 3600000")
        try check((1...(1 << 30)).contains(maxBodyBytes), "MAX_BODY_BYTES: 1 to 1073741824")
        try check((1...1_000_000).contains(connectionLimits.maxConnections), "HTTP_MAX_CONNECTIONS: 1 to 1000000")
        try check((1...1024).contains(redis.poolSize), "REDIS_POOL_SIZE: 1 to 1024")
        try check((1...1024).contains(postgres.poolSize), "PG_POOL_SIZE: 1 to 1024")
        for (name, value) in [
            ("REDIS_CONNECT_TIMEOUT_MS", redis.connectTimeout), ("REDIS_TIMEOUT_MS", redis.commandTimeout),
            ("REDIS_CLUSTER_REFRESH_MS", redis.clusterRefreshInterval),
            ("PG_CONNECT_TIMEOUT_MS", postgres.connectTimeout), ("PG_QUERY_TIMEOUT_MS", postgres.queryTimeout),
            ("HTTP_IDLE_TIMEOUT_MS", connectionLimits.idleTimeout), ("HTTP_HEADER_TIMEOUT_MS", connectionLimits.headerTimeout),
        ] {
            try check(value >= .milliseconds(1) && value <= hour, "\(name): 1 to 3600000")
        }
        return self
    }

    /// The settings of `service` from the environment, validated: what each service's own
    /// configuration starts from.
    public static func load(
        service: String,
        portVariable: String,
        defaultPort: Int,
        environment: EnvironmentReader
    ) throws -> ServiceConfiguration {
        try ServiceConfiguration(service: service, portVariable: portVariable, defaultPort: defaultPort, environment: environment).validated()
    }
}
