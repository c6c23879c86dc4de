import Logging
import ServiceLifecycle
import Shared

/// Moves stored points from `analytics.unrolled` into their buckets and sketch bins, every
/// `interval` and at once again while a round found a full batch.
///
/// One statement deletes a batch of unrolled rows and upserts their rollups, so it commits
/// whole or not at all: a point is counted once whether this instance is killed, PostgreSQL
/// goes away mid-round or several instances roll up at once (each takes rows the others have
/// not locked; upserts in key order, so they wait on each other rather than deadlock). A
/// summary reads unrolled points beside the buckets, so the interval bounds the work a
/// summary does on raw points, never what it counts.
struct RollupService: Service {
    /// `ANALYTICS_ROLLUP_INTERVAL_MS` (200), `ANALYTICS_ROLLUP_BATCH` (20000 points).
    struct Configuration: Sendable {
        var interval: Duration = .milliseconds(200)
        var batch = 20_000
    }

    let postgres: PostgresClient
    let configuration: Configuration
    let metrics: AnalyticsMetrics
    let logger: Logger

    static let rollupSQL = """
        WITH moved AS (
            DELETE FROM analytics.unrolled
            WHERE id IN (SELECT id FROM analytics.unrolled ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING type, ts, value
        ), b AS (
            INSERT INTO analytics.buckets AS b (type, resolution, start, count, sum, min, max)
            SELECT p.type, r.resolution, date_trunc(r.unit, p.ts, 'UTC'), count(*), sum(p.value::numeric), min(p.value), max(p.value)
            FROM moved p CROSS JOIN (VALUES ('m'::"char", 'minute'), ('h', 'hour'), ('d', 'day')) AS r (resolution, unit)
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (type, resolution, start) DO UPDATE SET
                count = b.count + excluded.count, sum = b.sum + excluded.sum,
                min = least(b.min, excluded.min), max = greatest(b.max, excluded.max)
        ), s AS (
            INSERT INTO analytics.sketch_bins AS s (type, resolution, start, sign, index, count)
            SELECT p.type, r.resolution, date_trunc(r.unit, p.ts, 'UTC'),
                analytics.sketch_sign(p.value), analytics.sketch_index(p.value), count(*)
            FROM moved p CROSS JOIN (VALUES ('m'::"char", 'minute'), ('h', 'hour'), ('d', 'day')) AS r (resolution, unit)
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (type, resolution, start, sign, index) DO UPDATE SET count = s.count + excluded.count
        )
        SELECT count(*)::bigint AS n FROM moved
        """

    func run() async throws {
        await drain()
        await repeatUntilShutdown(every: configuration.interval) { await drain() }
    }

    /// Rolls up until a round finds less than a full batch (or fails: the next tick retries).
    func drain() async {
        while await rollUp() >= configuration.batch, !Task.isCancelled {}
    }

    /// One round: the number of points it rolled up.
    func rollUp() async -> Int {
        do {
            let rolled = try await postgres.query(Self.rollupSQL, [configuration.batch]).first?.decode("n", as: Int.self) ?? 0
            metrics.pointsRolledUp.increment(by: Int64(rolled))
            return rolled
        } catch let error as PostgresError where error.sqlState == "40P01" {
            return configuration.batch  // a deadlock with another instance's round: go again
        } catch {
            logger.debug("rollup failed", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
