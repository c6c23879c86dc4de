import Logging

/// Brings one service's schema up to date at start-up.
///
/// Everything happens in one transaction holding an advisory lock keyed by the schema, so two
/// instances starting together apply each migration once, and a migration that fails leaves
/// nothing behind. Applied versions are recorded in `<schema>.schema_migrations`.
public struct Migrator: Sendable {
    public let schema: String
    public let migrations: [Migration]
    /// How long an instance waits for another one's migration to finish.
    public var lockWait: Duration = .seconds(120)

    /// - Precondition: `schema` is a plain lower-case identifier (it cannot be a parameter).
    public init(schema: String, migrations: [Migration]) {
        precondition(
            !schema.isEmpty && schema.utf8.allSatisfy { (97...122).contains($0) || $0 == 95 || (48...57).contains($0) },
            "schema names are lower-case identifiers"
        )
        precondition(Set(migrations.map(\.version)).count == migrations.count, "migration versions are unique")
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies what is missing; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        let applied = try await client.withTransaction { transaction -> [Int] in
            try await lock(transaction)
            try await transaction.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
            try await transaction.query(
                """
                CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            let done = Set(
                try await transaction.query("SELECT version FROM \(schema).schema_migrations").rows.map {
                    try $0.decode("version", as: Int.self)
                }
            )
            var applied: [Int] = []
            for migration in migrations where !done.contains(migration.version) {
                for statement in migration.statements {
                    try await transaction.query(statement)
                }
                try await transaction.query(
                    "INSERT INTO \(schema).schema_migrations (version, name) VALUES ($1, $2)",
                    [migration.version, migration.name]
                )
                applied.append(migration.version)
            }
            return applied
        }
        if !applied.isEmpty {
            logger.info("migrated", metadata: ["postgres.schema": "\(schema)", "postgres.versions": "\(applied)"])
        }
        return applied
    }

    /// Takes the schema's advisory lock, polling: a blocking `pg_advisory_xact_lock` would be
    /// cut off by the query timeout whenever another instance's migration runs longer than it.
    private func lock(_ transaction: PostgresTransaction) async throws {
        let deadline = ContinuousClock.now + lockWait
        var pause = Duration.milliseconds(10)
        while true {
            let row = try await transaction.query("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked", ["schema_migrations:\(schema)"]).first
            if try row?.decode("locked", as: Bool.self) == true { return }
            guard ContinuousClock.now < deadline else {
                throw DependencyUnavailableError(dependency: "postgres", reason: "another instance's migration of \(schema) holds the lock")
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
        }
    }
}
