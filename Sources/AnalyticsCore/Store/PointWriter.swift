import Foundation
import ServiceLifecycle
import Shared

/// Stores accepted points in PostgreSQL; the points of concurrent requests go in one
/// statement (a ``Batcher``), so a commit is paid per batch.
///
/// A request's points are answered only after the statement committed, with the ids the
/// database gave them: a 201 means the point and its rollups are durable. When the insert
/// fails nothing of the batch was stored (one statement, one transaction) and every request
/// in it gets the error. A deadlock or serialization failure between instances is retried.
final class PointWriter: Service, Sendable {
    /// `ANALYTICS_WRITE_FLUSHERS` (2), `ANALYTICS_WRITE_BATCH` (5000 points).
    struct Configuration: Sendable {
        var flushers = 2
        var maximumPoints = 5_000
    }

    private let batcher: Batcher<[MetricPoint], [Int64]>

    init(postgres: PostgresClient, configuration: Configuration) {
        batcher = Batcher(flushers: configuration.flushers, maximumWeight: configuration.maximumPoints, dependency: "postgres") {
            try await Self.insert($0, postgres: postgres)
        }
    }

    /// Stores `points` (all or none) and returns their ids in order.
    func write(_ points: [MetricPoint]) async throws -> [Int64] {
        try await batcher.submit(points, weight: points.count)
    }

    var usage: Batcher<[MetricPoint], [Int64]>.Usage { batcher.usage }

    func run() async throws {
        try await batcher.run()
    }

    /// Rows go in as one JSON array of `[type, µs, value]`, numbered by `WITH ORDINALITY` and
    /// inserted in that order, so the ids (one sequence, increasing within a statement) come
    /// back in the order of the points when sorted.
    static let insertSQL = """
        INSERT INTO analytics.points (type, ts, value)
        SELECT p.e->>0, timestamptz 'epoch' + (p.e->>1)::bigint * interval '1 microsecond', (p.e->>2)::double precision
        FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS p (e, n)
        ORDER BY p.n
        RETURNING id
        """

    private static func insert(_ requests: [[MetricPoint]], postgres: PostgresClient) async throws -> [[Int64]] {
        var writer = JSONWriter(capacity: 64 * requests.reduce(0) { $0 + $1.count })
        writer.beginArray()
        for point in requests.joined() {
            writer.beginArray()
            writer.string(point.type)
            writer.number(Double(point.timestamp))
            writer.number(point.value)
            writer.endArray()
        }
        writer.endArray()
        let json = String(buffer: writer.buffer)
        var attempt = 0
        while true {
            do {
                let result = try await postgres.query(insertSQL, [json])
                let ids = try result.rows.map { try $0.decode("id", as: Int64.self) }.sorted()
                var answers: [[Int64]] = []
                var next = 0
                for request in requests {
                    answers.append(Array(ids[next..<next + request.count]))
                    next += request.count
                }
                return answers
            } catch let error as PostgresError where (error.sqlState == "40P01" || error.sqlState == "40001") && attempt < 3 {
                attempt += 1
            }
        }
    }
}
