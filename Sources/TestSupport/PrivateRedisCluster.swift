import Foundation

/// A Redis Cluster of a test's own: three masters with a replica each on free loopback ports,
/// with the run's credentials, started and stopped by scripts/infra.sh as the single Redis is.
public final class PrivateRedisCluster: Sendable {
    public let ports: [Int]
    public let directory: String

    /// One URL per node, masters and replicas alike (each a seed for a cluster client).
    public var urls: [String] { ports.map { TestEnvironment.redisURL(port: $0) } }

    private init(ports: [Int], directory: String) {
        self.ports = ports
        self.directory = directory
    }

    public static func start() async throws -> PrivateRedisCluster {
        let cluster = PrivateRedisCluster(
            ports: (0..<6).map { _ in freePort() },
            directory: TestEnvironment.tmpdir + "/" + TestEnvironment.unique("redis-cluster")
        )
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-cluster-start", cluster.directory] + cluster.ports.map(String.init))
        return cluster
    }

    public func stop() async throws {
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-cluster-stop", directory] + ports.map(String.init))
    }
}
