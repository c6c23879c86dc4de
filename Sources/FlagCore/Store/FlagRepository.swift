import Foundation
import Shared

/// Flags and segments in PostgreSQL: every write is one transaction that bumps the version,
/// checks `If-Match`, and appends the audit row.
struct FlagRepository: Sendable {
    let postgres: PostgresClient

    /// One audit entry.
    struct HistoryEntry: Sendable {
        var version: Int64
        var action: String
        var actor: String
        var at: Date
        var before: JSONValue?
        var after: JSONValue?
    }

    private static let columns = "kind, name, version, deleted, definition::text AS definition, created_at, updated_at"

    /// Every entity, tombstones included: a full snapshot.
    func loadAll() async throws -> [EntityChange] {
        try await postgres.query("SELECT \(Self.columns) FROM flags.entities").rows.map(Self.change)
    }

    /// One entity as stored now (a tombstone if deleted), nil if it never existed.
    func load(_ kind: EntityChange.Kind, name: String) async throws -> EntityChange? {
        try await postgres.query("SELECT \(Self.columns) FROM flags.entities WHERE kind = $1 AND name = $2", [kind.rawValue, name])
            .rows.first.map(Self.change)
    }

    /// Creates `name`, or brings back a deleted one. Throws 409 when it exists.
    func create(_ kind: EntityChange.Kind, name: String, definition: JSONValue, actor: String) async throws -> EntityChange {
        let text = try Self.encode(definition)
        return try await postgres.withTransaction { transaction in
            let rows = try await transaction.query(
                """
                INSERT INTO flags.entities (kind, name, version, definition)
                VALUES ($1, $2, nextval('flags.versions'), $3::jsonb)
                ON CONFLICT (kind, name) DO UPDATE
                    SET version = EXCLUDED.version, deleted = false, definition = EXCLUDED.definition,
                        created_at = now(), updated_at = now()
                    WHERE flags.entities.deleted
                RETURNING \(Self.columns)
                """,
                [kind.rawValue, name, text]
            ).rows
            guard let row = rows.first else { throw ProblemDetails.conflict("\(kind.rawValue) \(name) already exists") }
            let change = try Self.change(row)
            try await Self.audit(transaction, change, action: "create", actor: actor, before: nil)
            return change
        }
    }

    /// Replaces `name`'s definition with what `update` makes of the current one.
    /// Throws 404 when it does not exist, 412 when `ifMatch` does not hold.
    func update(
        _ kind: EntityChange.Kind,
        name: String,
        ifMatch: String?,
        actor: String,
        _ update: @Sendable (JSONValue) throws -> JSONValue
    ) async throws -> EntityChange {
        try await postgres.withTransaction { transaction in
            let current = try await Self.lockLive(transaction, kind, name, ifMatch: ifMatch)
            let definition = try update(current.definition ?? [:])
            let row = try await transaction.query(
                """
                UPDATE flags.entities SET version = nextval('flags.versions'), definition = $3::jsonb, updated_at = now()
                WHERE kind = $1 AND name = $2
                RETURNING \(Self.columns)
                """,
                [kind.rawValue, name, try Self.encode(definition)]
            ).first!
            let change = try Self.change(row)
            try await Self.audit(transaction, change, action: "update", actor: actor, before: current.definition)
            return change
        }
    }

    /// Deletes `name` (a tombstone keeps its last version). 404, 412 as for updates.
    func delete(_ kind: EntityChange.Kind, name: String, ifMatch: String?, actor: String) async throws -> EntityChange {
        try await postgres.withTransaction { transaction in
            let current = try await Self.lockLive(transaction, kind, name, ifMatch: ifMatch)
            let row = try await transaction.query(
                """
                UPDATE flags.entities SET version = nextval('flags.versions'), deleted = true, definition = NULL, updated_at = now()
                WHERE kind = $1 AND name = $2
                RETURNING \(Self.columns)
                """,
                [kind.rawValue, name]
            ).first!
            let change = try Self.change(row)
            try await Self.audit(transaction, change, action: "delete", actor: actor, before: current.definition)
            return change
        }
    }

    /// Newest first. Kept after a delete, so a deleted flag's story can still be read.
    func history(_ kind: EntityChange.Kind, name: String, limit: Int) async throws -> [HistoryEntry] {
        try await postgres.query(
            """
            SELECT version, action, actor, at, before::text AS before, after::text AS after
            FROM flags.history WHERE kind = $1 AND name = $2 ORDER BY id DESC LIMIT $3
            """,
            [kind.rawValue, name, limit]
        ).rows.map { row in
            HistoryEntry(
                version: try row.decode("version"),
                action: try row.decode("action"),
                actor: try row.decode("actor"),
                at: try row.decode("at"),
                before: try row.decodeIfPresent("before", as: String.self).map(Self.decode),
                after: try row.decodeIfPresent("after", as: String.self).map(Self.decode)
            )
        }
    }

    private static func lockLive(
        _ transaction: PostgresTransaction,
        _ kind: EntityChange.Kind,
        _ name: String,
        ifMatch: String?
    ) async throws -> EntityChange {
        guard
            let row = try await transaction.query(
                "SELECT \(columns) FROM flags.entities WHERE kind = $1 AND name = $2 AND NOT deleted FOR UPDATE",
                [kind.rawValue, name]
            ).first
        else {
            throw ProblemDetails.notFound("no \(kind.rawValue) \(name)")
        }
        let current = try change(row)
        if let ifMatch, !ETag.matches(ifMatch, current.etag) {
            throw ProblemDetails.preconditionFailed("\(kind.rawValue) \(name) is at version \(current.version); If-Match was \(ifMatch)")
        }
        return current
    }

    private static func audit(
        _ transaction: PostgresTransaction,
        _ change: EntityChange,
        action: String,
        actor: String,
        before: JSONValue?
    ) async throws {
        try await transaction.query(
            "INSERT INTO flags.history (kind, name, version, action, actor, before, after) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)",
            [change.kind.rawValue, change.name, change.version, action, actor, try before.map(encode), try change.definition.map(encode)]
        )
    }

    static func change(_ row: PostgresRow) throws -> EntityChange {
        EntityChange(
            kind: EntityChange.Kind(rawValue: try row.decode("kind")) ?? .flag,
            name: try row.decode("name"),
            version: try row.decode("version"),
            deleted: try row.decode("deleted"),
            definition: try row.decodeIfPresent("definition", as: String.self).map(decode),
            createdAt: Timestamp.iso8601(try row.decode("created_at")),
            updatedAt: Timestamp.iso8601(try row.decode("updated_at"))
        )
    }

    static func encode(_ value: JSONValue) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}
