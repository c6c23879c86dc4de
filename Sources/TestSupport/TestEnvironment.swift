import Foundation
import Logging
import Shared

/// The servers `scripts/test.sh` started for this run, read from its environment.
public enum TestEnvironment {
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    /// Temporary directory of this run; everything tests create goes below it.
    public static var tmpdir: String { env["TEST_TMPDIR"] ?? NSTemporaryDirectory() }

    public static var redisURL: String { env["TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379" }

    /// Whether this run selects Redis Cluster (`TEST_REDIS_TOPOLOGY=cluster`): the run's Redis
    /// is then a cluster seeded by `TEST_REDIS_CLUSTER_NODES`, and ``PrivateRedis`` starts
    /// clusters.
    public static var isRedisClusterRun: Bool { env["TEST_REDIS_TOPOLOGY"] == "cluster" }

    /// The run's Redis as services read it: `REDIS_URL`, and in a cluster run `REDIS_CLUSTER_NODES`.
    public static var redisEnvironment: [String: String] {
        var environment = ["REDIS_URL": redisURL]
        if let nodes = env["TEST_REDIS_CLUSTER_NODES"] { environment["REDIS_CLUSTER_NODES"] = nodes }
        return environment
    }
    public static var databaseURL: String { env["TEST_DATABASE_URL"] ?? "postgresql://suite@127.0.0.1:5432/suite" }

    /// The servers' passwords (`scripts/lib.sh`): the Redis ACL user `suite` and PostgreSQL's
    /// scram-sha-256 user `suite`. Private servers started through `infraScript` take them too.
    public static var redisPassword: String? { env["SUITE_REDIS_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var postgresPassword: String? { env["SUITE_PG_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 } }

    /// A URL for a Redis on `port` started by `infraScript`, with the run's credentials.
    public static func redisURL(port: Int) -> String {
        "redis://\(redisPassword.map { "suite:\($0)@" } ?? "")127.0.0.1:\(port)"
    }

    /// A URL for a PostgreSQL on `port` started by `infraScript`, with the run's credentials.
    public static func postgresURL(port: Int) -> String {
        "postgresql://suite\(postgresPassword.map { ":\($0)" } ?? "")@127.0.0.1:\(port)/suite"
    }

    /// The repository's root directory (this file is `Sources/TestSupport/…` in it).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized.path

    /// `scripts/infra.sh`, which starts and stops servers the way the scripts do.
    public static var infraScript: String {
        env["TEST_INFRA"] ?? repositoryRoot + "/scripts/infra.sh"
    }

    public static var pgTemplate: String? { env["TEST_PG_TEMPLATE"] }

    /// A client of the Redis at `url`; of the run's, a cluster client in a cluster run.
    public static func redisConfiguration(url: String = redisURL, commandTimeout: Duration = .seconds(2)) -> RedisClient.Configuration {
        let endpoint = RedisEndpoint(url: url)!
        let nodes =
            url == redisURL ? env["TEST_REDIS_CLUSTER_NODES"].flatMap { RedisClient.Configuration.clusterNodes($0, credentials: endpoint) } : nil
        return RedisClient.Configuration(
            endpoint: endpoint,
            poolSize: 8,
            connectTimeout: .milliseconds(500),
            commandTimeout: commandTimeout,
            clusterNodes: nodes ?? []
        )
    }

    /// The tests' own client: a connect timeout far above the services' 2 s, because a test
    /// that checks the database after a burst must not fail on a server slow to fork one more
    /// backend on a loaded machine (a stopped server still refuses at once).
    public static func postgresConfiguration(url: String = databaseURL, queryTimeout: Duration = .seconds(5)) -> PostgresClient.Configuration {
        PostgresClient.Configuration(conninfo: url, applicationName: "tests", poolSize: 4, connectTimeout: .seconds(10), queryTimeout: queryTimeout)
    }

    public static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = env["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    /// A name no other test uses, for keys, schemas and channels.
    public static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: .min ... .max))"
    }

    /// A new, empty database on the run's PostgreSQL; its URL. Services migrate it themselves,
    /// and a test that reads whole tables (a feed, a flag list) sees only its own rows.
    public static func freshDatabase(_ prefix: String) async throws -> String {
        // The name is made here from a fixed prefix and digits, never from input; CREATE
        // DATABASE takes no parameters.
        precondition(prefix.utf8.allSatisfy { (97...122).contains($0) }, "database prefixes are lower-case letters")
        let name = unique(prefix)
        // Copying template1 takes seconds when many tests do it at once on a busy machine.
        try await withPostgres(queryTimeout: .seconds(60)) { try await $0.query("CREATE DATABASE \(name)") }
        guard let slash = databaseURL.lastIndex(of: "/") else { return databaseURL }
        return databaseURL[..<slash] + "/" + name
    }
}
