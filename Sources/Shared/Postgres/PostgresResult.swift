import Foundation

/// A query's rows, decoded from libpq's text format.
public struct PostgresResult: Sendable {
    public let columns: [String]
    public let rows: [PostgresRow]
    /// Rows touched by INSERT/UPDATE/DELETE.
    public let affectedRows: Int

    public var first: PostgresRow? { rows.first }
}
