import Shared

/// The `analytics` schema: the points as received, and their rollups.
///
/// `points` keeps every accepted point (until the raw retention) with the id its 201 named.
/// `buckets` holds count, sum (`numeric`, so it is exact whatever order points arrive in),
/// min and max per type and minute, hour and UTC day; `sketch_bins` the DDSketch bin counts of
/// the same buckets. A point goes into `points` and (by a statement trigger) `unrolled` in the
/// transaction that stores it; ``RollupService`` moves `unrolled` rows into their buckets (a
/// late point into its own) in one statement, so in any snapshot a point is either unrolled
/// or rolled up, never both, and a summary reads the buckets and the unrolled points
/// together. Upserts go in key order, so concurrent rollups lock rows in the same order.
///
/// Version 1 rolled up in a statement trigger, in the insert's transaction: exact too, but
/// every batch of points then updated the same hot bucket rows, so concurrent inserts queued
/// on each other's row locks and the commit carried the rollup's cost.
enum AnalyticsSchema {
    static let migrator = Migrator(
        schema: "analytics",
        migrations: [
            Migration(
                version: 1,
                name: "points, buckets and sketches kept by a trigger",
                statements: [
                    """
                    CREATE TABLE analytics.points (
                        id bigserial PRIMARY KEY,
                        type text NOT NULL CHECK (char_length(type) BETWEEN 1 AND 64),
                        ts timestamptz NOT NULL,
                        value double precision NOT NULL CHECK (value > '-Infinity' AND value < 'Infinity'),
                        received_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    """
                    CREATE TABLE analytics.buckets (
                        type text NOT NULL,
                        resolution "char" NOT NULL,
                        start timestamptz NOT NULL,
                        count bigint NOT NULL,
                        sum numeric NOT NULL,
                        min double precision NOT NULL,
                        max double precision NOT NULL,
                        PRIMARY KEY (type, resolution, start)
                    )
                    """,
                    """
                    CREATE TABLE analytics.sketch_bins (
                        type text NOT NULL,
                        resolution "char" NOT NULL,
                        start timestamptz NOT NULL,
                        sign smallint NOT NULL,
                        index integer NOT NULL,
                        count bigint NOT NULL,
                        PRIMARY KEY (type, resolution, start, sign, index)
                    )
                    """,
                    // QuantileSketch's mapping: the same γ = 1.01/0.99 and the same ln.
                    """
                    CREATE FUNCTION analytics.sketch_sign(v double precision) RETURNS smallint
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
                    $$ SELECT (CASE WHEN abs(v) < 1e-9::float8 THEN 0 WHEN v > 0 THEN 1 ELSE -1 END)::smallint $$
                    """,
                    """
                    CREATE FUNCTION analytics.sketch_index(v double precision) RETURNS integer
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
                    $$ SELECT CASE WHEN abs(v) < 1e-9::float8 THEN 0 ELSE ceil(ln(abs(v)) / ln(1.01::float8 / 0.99::float8))::integer END $$
                    """,
                    """
                    CREATE FUNCTION analytics.roll_up() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO analytics.buckets AS b (type, resolution, start, count, sum, min, max)
                        SELECT p.type, r.resolution, date_trunc(r.unit, p.ts, 'UTC'), count(*), sum(p.value::numeric), min(p.value), max(p.value)
                        FROM inserted p CROSS JOIN (VALUES ('m'::"char", 'minute'), ('h', 'hour'), ('d', 'day')) AS r (resolution, unit)
                        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                        ON CONFLICT (type, resolution, start) DO UPDATE SET
                            count = b.count + excluded.count, sum = b.sum + excluded.sum,
                            min = least(b.min, excluded.min), max = greatest(b.max, excluded.max);
                        INSERT INTO analytics.sketch_bins AS s (type, resolution, start, sign, index, count)
                        SELECT p.type, r.resolution, date_trunc(r.unit, p.ts, 'UTC'),
                            analytics.sketch_sign(p.value), analytics.sketch_index(p.value), count(*)
                        FROM inserted p CROSS JOIN (VALUES ('m'::"char", 'minute'), ('h', 'hour'), ('d', 'day')) AS r (resolution, unit)
                        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
                        ON CONFLICT (type, resolution, start, sign, index) DO UPDATE SET count = s.count + excluded.count;
                        RETURN NULL;
                    END
                    $$
                    """,
                    """
                    CREATE TRIGGER points_roll_up AFTER INSERT ON analytics.points
                    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION analytics.roll_up()
                    """,
                ]
            ),
            Migration(
                version: 2,
                name: "rollups off the commit path",
                statements: [
                    // Rows live for a rollup interval: vacuumed often, whatever the table's size.
                    """
                    CREATE TABLE analytics.unrolled (
                        id bigint PRIMARY KEY,
                        type text NOT NULL,
                        ts timestamptz NOT NULL,
                        value double precision NOT NULL
                    ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_cost_delay = 0)
                    """,
                    "CREATE INDEX unrolled_type_ts ON analytics.unrolled (type, ts)",
                    // A trigger rather than the writer's statement, so an instance of the
                    // previous version still writing during an upgrade queues its points too.
                    """
                    CREATE FUNCTION analytics.queue_for_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO analytics.unrolled (id, type, ts, value) SELECT id, type, ts, value FROM inserted;
                        RETURN NULL;
                    END
                    $$
                    """,
                    "DROP TRIGGER points_roll_up ON analytics.points",
                    "DROP FUNCTION analytics.roll_up()",
                    """
                    CREATE TRIGGER points_queue_for_rollup AFTER INSERT ON analytics.points
                    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION analytics.queue_for_rollup()
                    """,
                ]
            ),
        ]
    )
}
