import Shared

/// AnalyticsService's settings, read from the environment.
///
/// | variable | default | |
/// |---|---|---|
/// | `ANALYTICS_RATE_LIMIT` | `5/60` | points per client per seconds (`<limit>/<seconds>`) |
/// | `CLIENT_API_KEYS` | none | keys that give a client its own allowance (admin keys do too) |
/// | `ANALYTICS_LATE_WINDOW_MS` | 86400000 | how old a point may be and still land in its bucket |
/// | `ANALYTICS_FUTURE_SKEW_MS` | 300000 | how far in the future a timestamp may be |
/// | `ANALYTICS_RETENTION_DAYS` | 400 | buckets kept, and the longest range a summary may ask for |
/// | `ANALYTICS_RAW_RETENTION_HOURS` | 48 | raw points kept (at least the late window) |
/// | `ANALYTICS_RETENTION_INTERVAL_MS` | 3600000 | how often retention sweeps |
/// | `ANALYTICS_CACHE_TTL_MS` | 30000 | how long a cached summary is fresh |
/// | `ANALYTICS_CACHE_STALE_MS` | 86400000 | how long after that it may still be served if PostgreSQL is down |
/// | `ANALYTICS_EXTERNAL_URL` | `http://127.0.0.1:8090/data` | the external source; `none` (or empty) for none |
/// | `ANALYTICS_EXTERNAL_TIMEOUT_MS` | 500 | its call timeout |
/// | `ANALYTICS_WRITE_FLUSHERS`, `ANALYTICS_WRITE_BATCH` | 2, 5000 | inserts in flight, points per insert |
/// | `ANALYTICS_ROLLUP_INTERVAL_MS`, `ANALYTICS_ROLLUP_BATCH` | 200, 20000 | how often stored points are rolled into their buckets, points per round |
///
/// and the platform's settings (``ServiceConfiguration``), with `ANALYTICS_PORT` 8083.
public struct AnalyticsConfiguration: ServiceSettings {
    public var service: ServiceConfiguration
    var rateLimit: RateLimitPolicy
    var clientKeys: APIKeySet
    var window: AcceptedWindow
    var retention: RetentionService.Configuration
    var cache: SummaryCache.Configuration
    var external: ExternalSource.Configuration
    var writer: PointWriter.Configuration
    var rollup: RollupService.Configuration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        let service = try ServiceConfiguration.load(service: "analytics", portVariable: "ANALYTICS_PORT", defaultPort: 8083, environment: env)
        self.service = service
        do {
            rateLimit = try RateLimitPolicy(parsing: env.string("ANALYTICS_RATE_LIMIT", default: "5/60"), name: "metrics")
        } catch let error as ConfigurationError {
            throw ConfigurationError("ANALYTICS_RATE_LIMIT: \(error.description)")
        }
        clientKeys = APIKeySet(env.list("CLIENT_API_KEYS")).union(service.adminAPIKeys)
        window = AcceptedWindow(
            late: env.milliseconds("ANALYTICS_LATE_WINDOW_MS", default: .seconds(86_400)),
            ahead: env.milliseconds("ANALYTICS_FUTURE_SKEW_MS", default: .seconds(300))
        )
        let days = env.int("ANALYTICS_RETENTION_DAYS", default: 400)
        let rawHours = env.int("ANALYTICS_RAW_RETENTION_HOURS", default: 48)
        guard days >= 1, days <= 36_600 else { throw ConfigurationError("ANALYTICS_RETENTION_DAYS must be 1 to 36600") }
        retention = .init(
            retention: .seconds(days * 86_400),
            rawRetention: .seconds(rawHours * 3_600),
            interval: env.milliseconds("ANALYTICS_RETENTION_INTERVAL_MS", default: .seconds(3_600))
        )
        guard retention.rawRetention >= window.late, retention.retention >= window.late else {
            throw ConfigurationError("ANALYTICS_RAW_RETENTION_HOURS and ANALYTICS_RETENTION_DAYS must cover ANALYTICS_LATE_WINDOW_MS")
        }
        cache = .init(
            ttl: env.milliseconds("ANALYTICS_CACHE_TTL_MS", default: .seconds(30)),
            staleFor: env.milliseconds("ANALYTICS_CACHE_STALE_MS", default: .seconds(86_400))
        )
        guard cache.ttl > .zero else { throw ConfigurationError("ANALYTICS_CACHE_TTL_MS must be above 0") }
        // Set but blank means none as well as `none` does; only unset takes the default.
        let url: String? =
            switch env.string("ANALYTICS_EXTERNAL_URL") {
            case .some(let url): url.lowercased() == "none" ? nil : url
            case nil: env.values["ANALYTICS_EXTERNAL_URL"] == nil ? "http://127.0.0.1:8090/data" : nil
            }
        external = .init(url: url, timeout: env.milliseconds("ANALYTICS_EXTERNAL_TIMEOUT_MS", default: .milliseconds(500)))
        writer = .init(
            flushers: max(1, env.int("ANALYTICS_WRITE_FLUSHERS", default: 2)),
            maximumPoints: max(1, env.int("ANALYTICS_WRITE_BATCH", default: 5_000))
        )
        rollup = .init(
            interval: env.milliseconds("ANALYTICS_ROLLUP_INTERVAL_MS", default: .milliseconds(200)),
            batch: env.int("ANALYTICS_ROLLUP_BATCH", default: 20_000)
        )
        guard rollup.interval > .zero, rollup.batch >= 1 else {
            throw ConfigurationError("ANALYTICS_ROLLUP_INTERVAL_MS and ANALYTICS_ROLLUP_BATCH must be above 0")
        }
    }
}
