import Shared

/// Reads a summary's figures from the rollups: one query for every segment of a
/// ``BucketPlan``, count/sum/min/max rows and sketch bins grouped per slot.
struct SummaryStore: Sendable {
    let postgres: PostgresClient

    /// Points not rolled up yet count as buckets of one; the statement reads both in one
    /// snapshot, in which a point is in exactly one of them (``RollupService``). Each segment
    /// reads its own index range (`LATERAL … OFFSET 0` keeps the planner from flattening it
    /// into a hash join over every bin of the type, which it prefers from its row estimate
    /// for `jsonb_to_recordset`: 200 ms instead of 2 ms for a day of a busy type).
    static let figuresSQL = """
        WITH g AS (
            SELECT g.slot, g.r::"char" AS r,
                timestamptz 'epoch' + g.lo * interval '1 microsecond' AS lo,
                timestamptz 'epoch' + g.hi * interval '1 microsecond' AS hi
            FROM jsonb_to_recordset($2::jsonb) AS g (slot integer, r text, lo bigint, hi bigint)
        ), u AS (
            SELECT g.slot, u.value
            FROM g CROSS JOIN LATERAL (
                SELECT u.value FROM analytics.unrolled u WHERE u.type = $1 AND u.ts >= g.lo AND u.ts < g.hi OFFSET 0
            ) u
        ), b AS (
            SELECT g.slot, b.count, b.sum, b.min, b.max
            FROM g CROSS JOIN LATERAL (
                SELECT b.count, b.sum, b.min, b.max FROM analytics.buckets b
                WHERE b.type = $1 AND b.resolution = g.r AND b.start >= g.lo AND b.start < g.hi OFFSET 0
            ) b
            UNION ALL
            SELECT u.slot, 1, u.value::numeric, u.value, u.value FROM u
        ), s AS (
            SELECT g.slot, s.sign, s.index, s.count
            FROM g CROSS JOIN LATERAL (
                SELECT s.sign, s.index, s.count FROM analytics.sketch_bins s
                WHERE s.type = $1 AND s.resolution = g.r AND s.start >= g.lo AND s.start < g.hi OFFSET 0
            ) s
            UNION ALL
            SELECT u.slot, analytics.sketch_sign(u.value), analytics.sketch_index(u.value), 1 FROM u
        )
        SELECT slot, 0 AS kind, sum(count)::bigint AS count, sum(sum)::double precision AS sum,
            min(min) AS min, max(max) AS max, NULL::smallint AS sign, NULL::integer AS index
        FROM b GROUP BY slot
        UNION ALL
        SELECT slot, 1, sum(count)::bigint, NULL, NULL, NULL, sign, index
        FROM s GROUP BY slot, sign, index
        """

    /// The figures of every slot of `plan` for `type` (empty slots have no points).
    func figures(type: String, plan: BucketPlan) async throws -> [Figures] {
        var writer = JSONWriter(capacity: 48 * plan.segments.count + 2)
        writer.beginArray()
        for segment in plan.segments {
            writer.beginObject()
            writer.key("slot")
            writer.number(Double(segment.slot))
            writer.key("r")
            writer.string(segment.resolution.rawValue)
            writer.key("lo")
            writer.number(Double(segment.from))
            writer.key("hi")
            writer.number(Double(segment.to))
            writer.endObject()
        }
        writer.endArray()
        var slots = [Figures](repeating: Figures(), count: plan.slots.count)
        let result = try await postgres.query(Self.figuresSQL, [type, String(buffer: writer.buffer)])
        for row in result.rows {
            let slot = try row.decode("slot", as: Int.self)
            guard slots.indices.contains(slot) else { continue }
            if try row.decode("kind", as: Int.self) == 0 {
                slots[slot].count = try row.decode("count")
                slots[slot].sum = try row.decode("sum")
                slots[slot].min = try row.decode("min")
                slots[slot].max = try row.decode("max")
            } else {
                slots[slot].sketch.add(sign: try row.decode("sign"), index: try row.decode("index"), count: try row.decode("count"))
            }
        }
        return slots
    }
}
