import Foundation
import Shared

/// Filters in PostgreSQL. Each write is one statement or one transaction that bumps the
/// version from the schema's sequence and checks `If-Match`.
struct FilterRepository: Sendable {
    let postgres: PostgresClient

    private static let columns = "subscriber_id, version, definition::text AS definition, created_at, updated_at"

    /// Every filter, tombstones included.
    func loadAll() async throws -> [FilterRecord] {
        try await postgres.query("SELECT \(Self.columns) FROM streams.filters").rows.map(Self.record)
    }

    func load(_ subscriberID: String) async throws -> FilterRecord? {
        try await postgres.query("SELECT \(Self.columns) FROM streams.filters WHERE subscriber_id = $1", [subscriberID])
            .rows.first.map(Self.record)
    }

    /// Creates the subscriber's filter, or brings back a deleted one; 409 when one exists.
    func create(_ filter: SubscriberFilter) async throws -> FilterRecord {
        let rows = try await postgres.query(
            """
            INSERT INTO streams.filters (subscriber_id, version, definition)
            VALUES ($1, nextval('streams.versions'), $2::jsonb)
            ON CONFLICT (subscriber_id) DO UPDATE
                SET version = EXCLUDED.version, deleted = false, definition = EXCLUDED.definition,
                    created_at = now(), updated_at = now()
                WHERE streams.filters.deleted
            RETURNING \(Self.columns)
            """,
            [filter.subscriberID, try Self.encode(filter.json)]
        ).rows
        guard let row = rows.first else { throw ProblemDetails.conflict("subscriber \(filter.subscriberID) already has a filter") }
        return try Self.record(row)
    }

    /// Replaces the filter with what `update` makes of the current one; 404 when there is
    /// none, 412 when `ifMatch` does not hold.
    func update(
        _ subscriberID: String,
        ifMatch: String?,
        _ update: @Sendable (SubscriberFilter) throws -> SubscriberFilter
    ) async throws -> FilterRecord {
        try await postgres.withTransaction { transaction in
            let current = try await Self.lockLive(transaction, subscriberID, ifMatch: ifMatch)
            let filter = try update(current.filter!)
            let row = try await transaction.query(
                """
                UPDATE streams.filters SET version = nextval('streams.versions'), definition = $2::jsonb, updated_at = now()
                WHERE subscriber_id = $1 RETURNING \(Self.columns)
                """,
                [subscriberID, try Self.encode(filter.json)]
            ).first!
            return try Self.record(row)
        }
    }

    /// Deletes the filter (a tombstone keeps its last version); 404, 412 as for updates.
    func delete(_ subscriberID: String, ifMatch: String?) async throws -> FilterRecord {
        try await postgres.withTransaction { transaction in
            _ = try await Self.lockLive(transaction, subscriberID, ifMatch: ifMatch)
            let row = try await transaction.query(
                """
                UPDATE streams.filters SET version = nextval('streams.versions'), deleted = true, definition = NULL, updated_at = now()
                WHERE subscriber_id = $1 RETURNING \(Self.columns)
                """,
                [subscriberID]
            ).first!
            return try Self.record(row)
        }
    }

    private static func lockLive(_ transaction: PostgresTransaction, _ subscriberID: String, ifMatch: String?) async throws -> FilterRecord {
        guard
            let row = try await transaction.query(
                "SELECT \(columns) FROM streams.filters WHERE subscriber_id = $1 AND NOT deleted FOR UPDATE",
                [subscriberID]
            ).first
        else { throw ProblemDetails.notFound("no filter for subscriber \(subscriberID)") }
        let current = try record(row)
        if let ifMatch, !ETag.matches(ifMatch, current.etag) {
            throw ProblemDetails.preconditionFailed("the filter is at version \(current.version); If-Match was \(ifMatch)")
        }
        return current
    }

    static func record(_ row: PostgresRow) throws -> FilterRecord {
        let definition = try row.decodeIfPresent("definition", as: String.self)
        return FilterRecord(
            subscriberID: try row.decode("subscriber_id"),
            version: try row.decode("version"),
            filter: try definition.map { try SubscriberFilter(json: try JSONValue.parse(Data($0.utf8))) },
            createdAt: Timestamp.iso8601(try row.decode("created_at")),
            updatedAt: Timestamp.iso8601(try row.decode("updated_at"))
        )
    }

    static func encode(_ value: JSONValue) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
