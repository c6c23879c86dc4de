import Shared

/// Reads a summary's figures from the rollups: one query for every segment of a
/// ``BucketPlan``, count/sum/min/max rows and sketch bins grouped per slot.
struct SummaryStore: Sendable {
    let postgres: PostgresClient

    static let figuresSQL = """
        WITH g AS (
            SELECT g.slot, g.r::"char" AS r,
                timestamptz 'epoch' + g.lo * interval '1 microsecond' AS lo,
                timestamptz 'epoch' + g.hi * interval '1 microsecond' AS hi
            FROM jsonb_to_recordset($2::jsonb) AS g (slot integer, r text, lo bigint, hi bigint)
        )
        SELECT g.slot, 0 AS kind, sum(b.count)::bigint AS count, sum(b.sum)::double precision AS sum,
            min(b.min) AS min, max(b.max) AS max, NULL::smallint AS sign, NULL::integer AS index
        FROM g JOIN analytics.buckets b ON b.type = $1 AND b.resolution = g.r AND b.start >= g.lo AND b.start < g.hi
        GROUP BY g.slot
        UNION ALL
        SELECT g.slot, 1, sum(s.count)::bigint, NULL, NULL, NULL, s.sign, s.index
        FROM g JOIN analytics.sketch_bins s ON s.type = $1 AND s.resolution = g.r AND s.start >= g.lo AND s.start < g.hi
        GROUP BY g.slot, s.sign, s.index
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
