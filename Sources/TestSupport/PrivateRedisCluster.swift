import Foundation
import Shared

/// A Redis Cluster of a test's own: three masters with a replica each on free loopback ports,
/// with the run's credentials, started and stopped by scripts/infra.sh as the single Redis is.
public final class PrivateRedisCluster: Sendable {
    /// A node as `CLUSTER NODES` lists it.
    public struct Node: Sendable, Equatable {
        public let id: String
        public let port: Int
        public let isMaster: Bool
        /// For a replica, its master's id.
        public let masterID: String?
    }

    public let ports: [Int]
    public let directory: String

    /// One URL per node, masters and replicas alike (each a seed for a cluster client).
    public var urls: [String] { ports.map { TestEnvironment.redisURL(port: $0) } }

    /// A cluster client's configuration seeded with every node.
    public var configuration: RedisClient.Configuration {
        var configuration = TestEnvironment.redisConfiguration(url: urls[0])
        configuration.clusterNodes = ports.map { port in
            var node = configuration.endpoint
            node.port = port
            return node
        }
        return configuration
    }

    /// `REDIS_CLUSTER_NODES` for the services.
    public var nodesVariable: String { ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    private init(ports: [Int], directory: String) {
        self.ports = ports
        self.directory = directory
    }

    /// Starts on fresh ports, and on fresh ports again when one was taken between the probe and
    /// a node's bind (``againWhenPortTaken(attempts:_:)``, as for one server).
    public static func start(attempts: Int = 3) async throws -> PrivateRedisCluster {
        try await againWhenPortTaken(attempts: attempts) {
            let cluster = PrivateRedisCluster(
                ports: (0..<6).map { _ in freeClusterPort() },
                directory: TestEnvironment.tmpdir + "/" + TestEnvironment.unique("redis-cluster")
            )
            do {
                try await Shell.run(["bash", TestEnvironment.infraScript, "redis-cluster-start", cluster.directory] + cluster.ports.map(String.init))
                return cluster
            } catch {
                try? await cluster.stop()  // the nodes that did start
                throw error
            }
        }
    }

    public func stop() async throws {
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-cluster-stop", directory] + ports.map(String.init))
    }

    /// Runs `redis-cli` with the run's credentials (`--cluster reshard …`, `-p PORT …`).
    @discardableResult
    public func cli(_ arguments: [String]) async throws -> String {
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-cli"] + arguments)
    }

    /// The nodes as the node on `port` sees them, failed ones left out.
    public func nodes(askingPort port: Int? = nil) async throws -> [Node] {
        let text = try await cli(["-p", String(port ?? ports[0]), "cluster", "nodes"])
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 8, !fields[2].contains("fail"),
                let port = fields[1].split(separator: "@").first?.split(separator: ":").last.flatMap({ Int($0) })
            else { return nil }
            let isMaster = fields[2].contains("master")
            return Node(id: String(fields[0]), port: port, isMaster: isMaster, masterID: isMaster ? nil : String(fields[3]))
        }
    }

    /// SIGKILLs the node on `port`: no shutdown, no save, as a crashed host.
    public func kill(port: Int) throws {
        let pidfile = "\(directory)/\(port)/redis-\(port).pid"
        guard let text = try? String(contentsOfFile: pidfile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw Shell.Failure(command: ["kill", pidfile], status: 1, output: "no pid file")
        }
        Foundation.kill(pid, SIGKILL)
    }
}
