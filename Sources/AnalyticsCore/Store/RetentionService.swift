import Logging
import ServiceLifecycle
import Shared

/// Deletes what is past retention, at start-up and then every `interval`: raw points older
/// than `rawRetention`, buckets and sketch bins whose bucket started before `retention`.
struct RetentionService: Service {
    /// `ANALYTICS_RETENTION_DAYS` (400), `ANALYTICS_RAW_RETENTION_HOURS` (48),
    /// `ANALYTICS_RETENTION_INTERVAL_MS` (3600000).
    struct Configuration: Sendable {
        var retention: Duration = .seconds(400 * 86_400)
        var rawRetention: Duration = .seconds(48 * 3_600)
        var interval: Duration = .seconds(3_600)
    }

    let postgres: PostgresClient
    let configuration: Configuration
    let logger: Logger

    func run() async throws {
        await sweep()
        await repeatUntilShutdown(every: configuration.interval) { await sweep() }
    }

    func sweep() async {
        let cutoffs: [(String, Duration)] = [
            ("DELETE FROM analytics.points WHERE ts < now() - $1::bigint * interval '1 microsecond'", configuration.rawRetention),
            ("DELETE FROM analytics.sketch_bins WHERE start < now() - $1::bigint * interval '1 microsecond'", configuration.retention),
            ("DELETE FROM analytics.buckets WHERE start < now() - $1::bigint * interval '1 microsecond'", configuration.retention),
        ]
        for (sql, age) in cutoffs {
            do {
                let deleted = try await postgres.query(sql, [age.microseconds]).affectedRows
                if deleted > 0 { logger.info("retention swept", metadata: ["analytics.deleted": "\(deleted)"]) }
            } catch {
                logger.debug("retention sweep failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
