import Foundation
import Shared

/// A Redis server of one test's own, for tests that stop, freeze or restart it.
///
/// In a run with `TEST_REDIS_TOPOLOGY=cluster` it is a Redis Cluster of the test's own
/// instead (``PrivateRedisCluster``), so the same service tests run against a cluster: services
/// get it through ``environment``, the test's own clients through ``configuration``. Such a
/// cluster can be stopped but not started again, frozen or thawed: tests that do that to their
/// Redis test one server's faults.
public final class PrivateRedis: Sendable {
    public let port: Int
    public let directory: String
    /// The cluster this stands for in a cluster run.
    public let cluster: PrivateRedisCluster?
    public var url: String { TestEnvironment.redisURL(port: port) }

    /// What a service reads to reach it: `REDIS_URL`, and on a cluster `REDIS_CLUSTER_NODES`.
    public var environment: [String: String] {
        var environment = ["REDIS_URL": url]
        if let cluster { environment["REDIS_CLUSTER_NODES"] = cluster.nodesVariable }
        return environment
    }

    /// A client configuration for it (a cluster client's on a cluster).
    public var configuration: RedisClient.Configuration {
        cluster?.configuration ?? TestEnvironment.redisConfiguration(url: url)
    }

    /// Extra redis-server options, the same at every start.
    private let options: [String]

    private init(port: Int, directory: String, options: [String], cluster: PrivateRedisCluster? = nil) {
        self.port = port
        self.directory = directory
        self.options = options
        self.cluster = cluster
    }

    /// - Parameter durable: an append-only file synced on every write, so a stop and start
    ///   keeps every acknowledged write (the suite's test servers keep nothing otherwise). A
    ///   cluster run's cluster keeps its replicas instead.
    public static func start(durable: Bool = false) async throws -> PrivateRedis {
        if TestEnvironment.isRedisClusterRun {
            let cluster = try await PrivateRedisCluster.start()
            return PrivateRedis(port: cluster.ports[0], directory: cluster.directory, options: [], cluster: cluster)
        }
        let options = durable ? ["--appendonly", "yes", "--appendfsync", "always"] : []
        return try await onFreePort { port in
            let server = PrivateRedis(port: port, directory: TestEnvironment.tmpdir + "/" + TestEnvironment.unique("redis"), options: options)
            try await server.start()
            return server
        }
    }

    /// The names of its keys that match `pattern` (`KEYS`); on a cluster, those of every
    /// node together, since `KEYS` answers for one node's slots only.
    public func keys(matching pattern: String) async throws -> Set<String> {
        var names: Set<String> = []
        for url in cluster?.urls ?? [url] {
            try await withRedis(url: url) { redis in
                names.formUnion(try await redis.send("KEYS", pattern).array?.compactMap(\.string) ?? [])
            }
        }
        return names
    }

    public func start() async throws {
        try requireSingle("started again")
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-start", directory, String(port)] + options)
    }

    public func stop() async throws {
        if let cluster { return try await cluster.stop() }
        try await Shell.infra("redis-stop", directory, String(port))
    }

    private func requireSingle(_ what: String) throws {
        if cluster != nil { throw Shell.Failure(command: ["redis"], status: 1, output: "a cluster run's Redis cannot be \(what)") }
    }

    /// SIGSTOP: the server keeps its socket (connections are accepted) but never answers.
    public func freeze() async throws {
        try requireSingle("frozen")
        try await Shell.run(["kill", "-STOP", try pid()])
    }

    public func thaw() async throws {
        try await Shell.run(["kill", "-CONT", try pid()])
    }

    private func pid() throws -> String {
        try String(contentsOfFile: "\(directory)/redis-\(port).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
