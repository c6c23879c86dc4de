import Foundation
import Shared
import TestSupport
import Testing

@Suite("PostgreSQL client", .teardown)
struct PostgresClientTests {
    let logger = TestEnvironment.logger

    /// A table of one test's own in a schema of its own.
    func withTable<T: Sendable>(_ client: PostgresClient, _ body: (String) async throws -> T) async throws -> T {
        let schema = TestEnvironment.unique("t")
        try await client.query("CREATE SCHEMA \(schema)")
        try await client.query(
            "CREATE TABLE \(schema).items (id serial PRIMARY KEY, name text, data bytea, n bigint, x double precision, b boolean, at timestamptz)"
        )
        do {
            let value = try await body("\(schema).items")
            try await client.query("DROP SCHEMA \(schema) CASCADE")
            return value
        } catch {
            _ = try? await client.query("DROP SCHEMA \(schema) CASCADE")
            throw error
        }
    }

    @Test func hostileValuesAreStoredVerbatim() async throws {
        try await withPostgres { pg in
            try await withTable(pg) { table in
                for value in hostileStrings {
                    let id = try await pg.query("INSERT INTO \(table) (name) VALUES ($1) RETURNING id", [value]).first!.decode("id", as: Int.self)
                    let stored = try await pg.query("SELECT name FROM \(table) WHERE id = $1", [id]).first!.decode("name", as: String.self)
                    #expect(stored == value)
                    // Compared on the server too: the parameter arrived as the very same text.
                    #expect(try await pg.query("SELECT count(*) AS c FROM \(table) WHERE name = $1", [value]).first!.decode("c", as: Int.self) == 1)
                }
                // The would-be injection left the table in place.
                #expect(try await pg.query("SELECT count(*) AS c FROM \(table)").first!.decode("c", as: Int.self) == hostileStrings.count)
            }
        }
    }

    @Test func bytesWithNULRoundTripThroughBytea() async throws {
        try await withPostgres { pg in
            try await withTable(pg) { table in
                let all = (0...255).map { UInt8($0) }
                for value in [hostileBytes, all, []] {
                    let row = try await pg.query("INSERT INTO \(table) (data) VALUES ($1) RETURNING data", [value]).first!
                    #expect(try row.decode("data", as: [UInt8].self) == value)
                }
                #expect(try await pg.query("SELECT length($1::bytea) AS n", [all]).first!.decode("n", as: Int.self) == 256)
            }
        }
    }

    @Test func textWithNULIsRefusedNotTruncated() async throws {
        try await withPostgres { pg in
            await #expect(throws: PostgresError.self) { try await pg.query("SELECT $1::text AS v", ["a\u{0}b"]) }
        }
    }

    @Test func typedDecoding() async throws {
        try await withPostgres { pg in
            let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
            let row = try await pg.query(
                "SELECT $1::bigint AS n, $2::float8 AS x, $3::boolean AS b, $4::timestamptz AS at, NULL::text AS missing, 'NaN'::float8 AS nan",
                [Int64(-9_007_199_254_740_993), 0.1 + 0.2, true, date]
            ).first!
            #expect(try row.decode("n", as: Int64.self) == -9_007_199_254_740_993)
            #expect(try row.decode("x", as: Double.self) == 0.1 + 0.2)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(date)) < 0.000_001)
            #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
            #expect(try row.decode("nan", as: Double.self).isNaN)
            #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
            #expect(throws: PostgresError.self) { try row.decode("b", as: Int.self) }
        }
    }

    @Test func serverErrorsCarrySQLState() async throws {
        try await withPostgres { pg in
            try await withTable(pg) { table in
                try await pg.query("INSERT INTO \(table) (id) VALUES (1)")
                do {
                    try await pg.query("INSERT INTO \(table) (id) VALUES (1)")
                    Issue.record("duplicate accepted")
                } catch let error as PostgresError {
                    #expect(error.isUniqueViolation)
                }
                // The connection is fine afterwards.
                #expect(try await pg.query("SELECT 1 AS one").first!.decode("one", as: Int.self) == 1)
            }
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        struct Abort: Error {}
        try await withPostgres { pg in
            try await withTable(pg) { table in
                try await pg.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) (name) VALUES ($1)", ["kept"])
                    try await tx.query("INSERT INTO \(table) (name) VALUES ($1)", ["kept too"])
                }
                await #expect(throws: Abort.self) {
                    try await pg.withTransaction { tx in
                        try await tx.query("INSERT INTO \(table) (name) VALUES ($1)", ["rolled back"])
                        throw Abort()
                    }
                }
                await #expect(throws: PostgresError.self) {
                    try await pg.withTransaction { tx in
                        try await tx.query("INSERT INTO \(table) (name) VALUES ($1)", ["also rolled back"])
                        try await tx.query("INSERT INTO \(table) (id) VALUES ('not a number')")
                    }
                }
                let names = try await pg.query("SELECT name FROM \(table) ORDER BY id").rows.map { try $0.decode("name", as: String.self) }
                #expect(names == ["kept", "kept too"])
            }
        }
    }

    /// How often this session ran `sql` as a prepared statement (none: not prepared). The
    /// tests that ask use a pool of one connection, so every call sees the same session.
    static func executions(of sql: String, _ pg: PostgresClient) async throws -> Int {
        try await pg.query(
            "SELECT coalesce(sum(generic_plans + custom_plans), 0)::int AS n FROM pg_prepared_statements WHERE statement = $1",
            [sql]
        ).first!.decode("n", as: Int.self)
    }

    @Test func aStatementIsPreparedOnceAndRunByName() async throws {
        try await withPostgres(poolSize: 1) { pg in
            let sql = "SELECT $1::int * 2 AS n"
            for value in 1...5 {
                #expect(try await pg.query(sql, [value]).first!.decode("n", as: Int.self) == value * 2)
            }
            #expect(try await Self.executions(of: sql, pg) == 5)
            let prepared = try await pg.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1", [sql])
            #expect(try prepared.first!.decode("n", as: Int.self) == 1)
        }
    }

    @Test func theCacheStaysWithinItsSize() async throws {
        try await withPostgres(poolSize: 1, statementCache: 4) { pg in
            for value in 0..<20 {
                let sql = "SELECT $1::int + \(value) AS n"
                #expect(try await pg.query(sql, [1]).first!.decode("n", as: Int.self) == value + 1)
            }
            // The counting statement is one of the four.
            let count = try await pg.query("SELECT count(*)::int AS n FROM pg_prepared_statements").first!.decode("n", as: Int.self)
            #expect((1...4).contains(count))
        }
        try await withPostgres(poolSize: 1, statementCache: 0) { pg async throws in
            #expect(try await pg.query("SELECT $1::int + 1 AS n", [1]).first!.decode("n", as: Int.self) == 2)
            #expect(try await pg.query("SELECT count(*)::int AS n FROM pg_prepared_statements").first!.decode("n", as: Int.self) == 0)
        }
    }

    /// A migration that changes what a prepared `SELECT *` returns: the next call prepares it
    /// again and answers with the new column, instead of failing on the stale plan.
    @Test func aPreparedStatementOutlivesASchemaChange() async throws {
        try await withPostgres(poolSize: 1) { pg in
            try await withTable(pg) { table in
                try await pg.query("INSERT INTO \(table) (name) VALUES ($1)", ["before"])
                let sql = "SELECT * FROM \(table) WHERE name = $1"
                #expect(try await pg.query(sql, ["before"]).columns.count == 7)
                try await pg.query("ALTER TABLE \(table) ADD COLUMN added text NOT NULL DEFAULT 'new'")
                let row = try #require(try await pg.query(sql, ["before"]).first)
                #expect(try row.decode("added", as: String.self) == "new")
                // Dropped and made again under the same name: resolved afresh as well.
                try await pg.query("DROP TABLE \(table)")
                try await pg.query("CREATE TABLE \(table) (id serial PRIMARY KEY, name text, added text)")
                try await pg.query("INSERT INTO \(table) (name, added) VALUES ($1, $2)", ["after", "again"])
                #expect(try await pg.query(sql, ["after"]).first?.decode("added", as: String.self) == "again")
            }
        }
    }

    @Test func aWrongParameterCountIsAClearError() async throws {
        try await withPostgres(poolSize: 1) { pg async throws in
            let sql = "SELECT $1::int + $2::int AS n"
            for parameters: [any PostgresEncodable] in [[1], [1, 2, 3], []] {
                let error = await #expect(throws: PostgresError.self) { try await pg.query(sql, parameters) }
                #expect(error?.description.contains("takes 2 parameters, \(parameters.count) given") == true)
            }
            // Nothing broke: the same connection runs the statement right.
            #expect(try await pg.query(sql, [1, 2]).first!.decode("n", as: Int.self) == 3)
            #expect(pg.poolUsage.open == 1)
        }
    }

    static let migrations = [
        Migration(version: 1, name: "create items", statements: ["CREATE TABLE SCHEMA_NAME.items (id serial PRIMARY KEY, name text NOT NULL)"]),
        Migration(
            version: 2,
            name: "index names",
            statements: [
                "CREATE INDEX items_name ON SCHEMA_NAME.items (name)",
                "ALTER TABLE SCHEMA_NAME.items ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
            ]
        ),
    ]

    func migrator(_ schema: String) -> Migrator {
        Migrator(
            schema: schema,
            migrations: Self.migrations.map { migration in
                Migration(
                    version: migration.version,
                    name: migration.name,
                    statements: migration.statements.map {
                        $0.replacingOccurrences(of: "SCHEMA_NAME", with: schema)
                    }
                )
            }
        )
    }

    @Test func migrationsTwiceChangeNothing() async throws {
        try await withPostgres { pg in
            let schema = TestEnvironment.unique("m")
            #expect(try await migrator(schema).migrate(pg, logger: logger) == [1, 2])
            try await pg.query("INSERT INTO \(schema).items (name) VALUES ($1)", ["row"])
            #expect(try await migrator(schema).migrate(pg, logger: logger) == [])
            let versions = try await pg.query("SELECT version FROM \(schema).schema_migrations ORDER BY version").rows.map {
                try $0.decode("version", as: Int.self)
            }
            #expect(versions == [1, 2])
            #expect(try await pg.query("SELECT count(*) AS c FROM \(schema).items").first!.decode("c", as: Int.self) == 1)
            try await pg.query("DROP SCHEMA \(schema) CASCADE")
        }
    }

    @Test func concurrentMigratorsDoNotFail() async throws {
        let schema = TestEnvironment.unique("m")
        // Separate clients, as separate instances starting together would have.
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await withPostgres { pg in try await migrator(schema).migrate(pg, logger: logger) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(applied.filter { !$0.isEmpty } == [[1, 2]])
        try await withPostgres { pg in
            #expect(try await pg.query("SELECT count(*) AS c FROM \(schema).schema_migrations").first!.decode("c", as: Int.self) == 2)
            try await pg.query("DROP SCHEMA \(schema) CASCADE")
        }
    }

    @Test func failedMigrationLeavesNothingBehind() async throws {
        try await withPostgres { pg in
            let schema = TestEnvironment.unique("m")
            let broken = Migrator(
                schema: schema,
                migrations: [
                    Migration(version: 1, name: "ok", statements: ["CREATE TABLE \(schema).a (id int)"]),
                    Migration(version: 2, name: "broken", statements: ["CREATE TABLE \(schema).b (id nosuchtype)"]),
                ]
            )
            await #expect(throws: PostgresError.self) { try await broken.migrate(pg, logger: logger) }
            let schemas = try await pg.query("SELECT count(*) AS c FROM information_schema.schemata WHERE schema_name = $1", [schema])
            #expect(try schemas.first!.decode("c", as: Int.self) == 0)
        }
    }

    /// The suite's PostgreSQL takes scram-sha-256 logins only (`scripts/lib.sh`), as the run
    /// command's does: no password or a wrong one is refused with a clear error.
    @Test func loginsNeedThePassword() async throws {
        let password = try #require(TestEnvironment.postgresPassword, "scripts/test.sh starts PostgreSQL with scram-sha-256")
        for url in [
            TestEnvironment.databaseURL.replacingOccurrences(of: ":\(password)@", with: "@"),
            TestEnvironment.databaseURL.replacingOccurrences(of: ":\(password)@", with: ":x\(password)@"),
        ] {
            #expect(url != TestEnvironment.databaseURL)
            try await withPostgres(url: url) { pg in
                let error = await #expect(throws: DependencyUnavailableError.self) { try await pg.query("SELECT 1") }
                #expect(error?.reason.contains("password") == true)
                #expect(error?.reason.contains(password) == false)
            }
        }
        try await withPostgres { pg in
            let methods = try await pg.query("SELECT DISTINCT auth_method AS m FROM pg_hba_file_rules").rows.map {
                try $0.decode("m", as: String.self)
            }
            #expect(methods == ["scram-sha-256"])
        }
    }

}

/// Exclusive (run alone, after the parallel pass): calls failing fast while the server is
/// down (under 3 s each) and a query cut at its timeout (well under the 30 s it asked for) are
/// bounds on time that a machine busy with the rest of the suite can stretch.
@Suite("Exclusive PostgreSQL client timing", .teardown)
struct ExclusivePostgresClientTests {
    /// A restart under a full pool: the reconnects must fit the pool's 5 s wait, which a
    /// loaded parallel pass once stretched past (a fresh-clone CI run).
    @Test func aServerRestartCostsNoFailedQuery() async throws {
        let server = try await PrivatePostgres.start()
        afterTest { try? await server.stop(mode: "immediate") }
        try await withPostgres(url: server.url) { pg in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { try await pg.query("SELECT pg_sleep(0.05)") } }
                try await group.waitForAll()
            }
            #expect(pg.poolUsage.open == 4)
            try await server.stop()
            try await server.start()
            for index in 0..<12 {
                #expect(try await pg.query("SELECT $1::int AS n", [index]).first!.decode("n", as: Int.self) == index)
            }
        }
    }

    @Test func recoversWhenTheServerRestarts() async throws {
        let server = try await PrivatePostgres.start()
        afterTest { try? await server.stop(mode: "immediate") }
        try await withPostgres(url: server.url) { pg in
            // Fill the pool so every connection goes stale in the restart.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await pg.query("SELECT pg_sleep(0.05)") } }
                try await group.waitForAll()
            }
            try await server.stop()
            for _ in 0..<5 {
                let start = ContinuousClock.now
                await #expect(throws: DependencyUnavailableError.self) { try await pg.query("SELECT 1") }
                #expect(ContinuousClock.now - start < .seconds(3))
            }
            try await server.start()
            #expect(
                await eventually(timeout: .seconds(10)) {
                    try await pg.query("SELECT 1")
                    return true
                }
            )
            // Stale connections from before the restart are replaced, not handed out.
            for _ in 0..<8 {
                #expect(try await pg.query("SELECT 2 AS two").first!.decode("two", as: Int.self) == 2)
            }
        }
    }

    /// A restart drops the session and its prepared statements with it: the new connection
    /// prepares the statement again, and not one call fails for it.
    @Test func preparedStatementsArePreparedAgainAfterARestart() async throws {
        let server = try await PrivatePostgres.start()
        afterTest { try? await server.stop(mode: "immediate") }
        try await withPostgres(url: server.url, poolSize: 1) { pg in
            let sql = "SELECT $1::int + 1 AS n"
            for value in 0..<3 { #expect(try await pg.query(sql, [value]).first!.decode("n", as: Int.self) == value + 1) }
            #expect(try await PostgresClientTests.executions(of: sql, pg) == 3)
            try await server.stop()
            try await server.start()
            #expect(try await pg.query(sql, [41]).first!.decode("n", as: Int.self) == 42)
            #expect(try await PostgresClientTests.executions(of: sql, pg) == 1)
        }
    }

    @Test func slowQueriesHitTheTimeout() async throws {
        try await withPostgres(queryTimeout: .milliseconds(300)) { pg in
            let start = ContinuousClock.now
            do {
                try await pg.query("SELECT pg_sleep(30)")
                Issue.record("the query outlived its timeout")
            } catch let error as PostgresError {
                #expect(error.isTimeout)
            } catch is DependencyUnavailableError {
                // The client deadline can win the race against statement_timeout.
            }
            // Far below the 30 s the query asked for; loose, since a busy machine adds seconds.
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(try await pg.query("SELECT 1 AS one").first!.decode("one", as: Int.self) == 1)
        }
    }
}
