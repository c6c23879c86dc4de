import Logging

/// The connection of one transaction; valid only inside `withTransaction`.
public struct PostgresTransaction: Sendable {
    let connection: PostgresConnection
    let pool: BlockingConnectionPool<PostgresConnection>
    let timeout: Duration

    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresResult {
        let connection = self.connection
        let timeout = self.timeout
        return try await pool.runBlocking { try connection.query(sql, parameters, timeout: timeout) }
    }
}
