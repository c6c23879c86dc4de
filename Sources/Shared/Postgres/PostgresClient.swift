import Logging

/// A pooled PostgreSQL client over libpq.
///
/// Statements always go through parameters, prepared once per connection and then executed
/// by name (``PostgresConnection``). Every call runs on a thread
/// of the client's own pool with a deadline; while the server is down calls fail fast with
/// ``DependencyUnavailableError`` and the client reconnects by itself when it returns.
public final class PostgresClient: PooledClient, Sendable {
    /// Defaults: pool of 8, connect timeout 2 s, query timeout 5 s.
    public struct Configuration: Sendable {
        /// `DATABASE_URL`: a libpq URL or `key=value` conninfo.
        public var conninfo: String
        public var applicationName: String
        /// `PG_POOL_SIZE`
        public var poolSize: Int
        /// `PG_CONNECT_TIMEOUT_MS` (libpq rounds up to whole seconds, at least 2)
        public var connectTimeout: Duration
        /// `PG_QUERY_TIMEOUT_MS`: client deadline and server `statement_timeout`.
        public var queryTimeout: Duration
        /// `PG_STATEMENT_CACHE`: statements kept prepared per connection (default 256); 0 sends
        /// every statement unnamed, parsed and planned on each call.
        public var statementCacheSize: Int
        public var reconnectBackoff: Backoff

        public init(
            conninfo: String = "postgresql://127.0.0.1:5432/suite",
            applicationName: String = "suite",
            poolSize: Int = 8,
            connectTimeout: Duration = .seconds(2),
            queryTimeout: Duration = .seconds(5),
            statementCacheSize: Int = 256,
            reconnectBackoff: Backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        ) {
            self.conninfo = conninfo
            self.applicationName = applicationName
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
            self.queryTimeout = queryTimeout
            self.statementCacheSize = statementCacheSize
            self.reconnectBackoff = reconnectBackoff
        }

        public init(environment env: EnvironmentReader, applicationName: String) {
            self.init(
                conninfo: env.string("DATABASE_URL", default: "postgresql://127.0.0.1:5432/suite"),
                applicationName: applicationName,
                poolSize: env.int("PG_POOL_SIZE", default: 8),
                connectTimeout: env.milliseconds("PG_CONNECT_TIMEOUT_MS", default: .seconds(2)),
                queryTimeout: env.milliseconds("PG_QUERY_TIMEOUT_MS", default: .seconds(5)),
                statementCacheSize: env.int("PG_STATEMENT_CACHE", default: 256)
            )
        }
    }

    public let configuration: Configuration
    public let pool: BlockingConnectionPool<PostgresConnection>

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        let settings = BlockingConnectionPool<PostgresConnection>.Configuration(
            size: configuration.poolSize,
            reconnectBackoff: configuration.reconnectBackoff
        )
        self.pool = BlockingConnectionPool(dependency: "postgres", configuration: settings, logger: logger) {
            try PostgresConnection(
                conninfo: configuration.conninfo,
                applicationName: configuration.applicationName,
                connectTimeout: configuration.connectTimeout,
                queryTimeout: configuration.queryTimeout,
                statementCacheSize: configuration.statementCacheSize
            )
        }
    }

    /// Runs one statement; `$1…$n` are bound to `parameters` in order.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresResult {
        let timeout = configuration.queryTimeout
        return try await pool.run { try $0.query(sql, parameters, timeout: timeout) }
    }

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled
    /// back when it throws.
    public func withTransaction<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        let pool = self.pool
        let timeout = configuration.queryTimeout
        return try await pool.withConnection { connection in
            let transaction = PostgresTransaction(connection: connection, pool: pool, timeout: timeout)
            try await transaction.query("BEGIN")
            do {
                let value = try await body(transaction)
                try await transaction.query("COMMIT")
                return value
            } catch {
                // A failed ROLLBACK leaves the connection outside IDLE, so the pool drops it.
                _ = try? await transaction.query("ROLLBACK")
                throw error
            }
        }
    }
}
