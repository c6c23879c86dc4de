import Shared

extension TestEnvironment {
    /// What a service built in process (`app.test(.router)` or `.live` on its real
    /// `buildApplication`) reads: the run's Redis and PostgreSQL, port 0, quiet logs, and
    /// `extra` over them (a fresh `DATABASE_URL`, keys, the service's own settings).
    public static func serviceEnvironment(_ extra: [String: String] = [:]) -> EnvironmentReader {
        var values = [
            "DATABASE_URL": databaseURL,
            "HEALTH_INTERVAL_MS": "200",
            "LOG_LEVEL": "critical",
        ].merging(redisEnvironment) { $1 }
        for port in ["GATEWAY", "FLAG", "RESTRICTION", "ANALYTICS", "STREAM", "PROFILE", "POST", "FEED"] {
            values["\(port)_PORT"] = "0"
        }
        values.merge(extra) { $1 }
        return EnvironmentReader(values)
    }
}
