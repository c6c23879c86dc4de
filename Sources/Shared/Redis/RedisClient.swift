import Logging
import ServiceLifecycle

/// A pooled Redis client over hiredis, for one Redis or a Redis Cluster.
///
/// Every call leases a connection and runs on a thread of the client's own pool; a call that
/// Redis does not answer within `commandTimeout` fails and drops its connection. While Redis
/// is unreachable, calls fail at once with ``DependencyUnavailableError`` (backing off between
/// reconnect attempts) and the client recovers by itself when Redis returns. Run it as a
/// `Service` so it closes its connections on graceful shutdown (and, on a cluster, refreshes
/// its slot map on a schedule).
///
/// With ``Configuration/clusterNodes`` set, it speaks to a cluster instead (``RedisCluster``):
/// each command goes to the master of its keys' slot, redirects are followed inside the client,
/// pipelines are split by node with their replies in the caller's order, and a multi-key call
/// whose keys span slots throws ``RedisCrossSlotError`` before anything is sent.
public final class RedisClient: Service, Sendable {
    /// Defaults: pool of 16, connect timeout 1 s, command timeout 2 s, one Redis.
    public struct Configuration: Sendable {
        /// The one Redis; on a cluster, the credentials (user, password) every node is reached with.
        public var endpoint: RedisEndpoint
        /// `REDIS_CLUSTER_NODES` (`host:port,host:port`): seeds of a Redis Cluster; empty (the
        /// default) for one Redis at `endpoint`. Any reachable node will do; the rest are learnt.
        public var clusterNodes: [RedisEndpoint]
        /// `REDIS_CLUSTER_REFRESH_MS`: how often the slot map is reloaded besides on redirects
        /// and unreachable nodes. Default 10 s.
        public var clusterRefreshInterval: Duration
        /// `REDIS_POOL_SIZE`: connections, and threads to block on (per node on a cluster).
        public var poolSize: Int
        /// `REDIS_CONNECT_TIMEOUT_MS`
        public var connectTimeout: Duration
        /// `REDIS_TIMEOUT_MS`: the longest a single call may wait for its reply.
        public var commandTimeout: Duration
        public var reconnectBackoff: Backoff

        public init(
            endpoint: RedisEndpoint = RedisEndpoint(),
            poolSize: Int = 16,
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(2),
            reconnectBackoff: Backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(1)),
            clusterNodes: [RedisEndpoint] = [],
            clusterRefreshInterval: Duration = .seconds(10)
        ) {
            self.endpoint = endpoint
            self.clusterNodes = clusterNodes
            self.clusterRefreshInterval = clusterRefreshInterval
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.reconnectBackoff = reconnectBackoff
        }

        public init(environment env: EnvironmentReader) {
            let endpoint = RedisEndpoint(url: env.string("REDIS_URL", default: "redis://127.0.0.1:6379")) ?? RedisEndpoint()
            self.init(
                endpoint: endpoint,
                poolSize: env.int("REDIS_POOL_SIZE", default: 16),
                connectTimeout: env.milliseconds("REDIS_CONNECT_TIMEOUT_MS", default: .seconds(1)),
                commandTimeout: env.milliseconds("REDIS_TIMEOUT_MS", default: .seconds(2)),
                clusterNodes: Self.clusterNodes(env.string("REDIS_CLUSTER_NODES", default: ""), credentials: endpoint) ?? [],
                clusterRefreshInterval: env.milliseconds("REDIS_CLUSTER_REFRESH_MS", default: .seconds(10))
            )
        }

        /// Parses `host:port,host:port` into endpoints carrying `credentials`' user and password;
        /// nil when an entry is not `host:port`.
        public static func clusterNodes(_ list: String, credentials: RedisEndpoint) -> [RedisEndpoint]? {
            var nodes: [RedisEndpoint] = []
            for entry in list.split(separator: ",", omittingEmptySubsequences: true) {
                guard let node = RedisSlotMap.Node(entry.filter { !$0.isWhitespace }[...]), !node.host.isEmpty, (1...65535).contains(node.port) else {
                    return nil
                }
                nodes.append(RedisEndpoint(host: node.host, port: node.port, username: credentials.username, password: credentials.password))
            }
            return nodes
        }

        /// Whether this is a cluster's configuration.
        public var isCluster: Bool { !clusterNodes.isEmpty }
    }

    public let configuration: Configuration
    /// The one Redis's pool; unused on a cluster, whose pools are per node.
    let pool: BlockingConnectionPool<RedisConnection>
    let cluster: RedisCluster?
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let settings = BlockingConnectionPool<RedisConnection>.Configuration(
            size: configuration.poolSize,
            reconnectBackoff: configuration.reconnectBackoff
        )
        self.pool = BlockingConnectionPool(dependency: "redis", configuration: settings, logger: logger) {
            try RedisConnection(
                endpoint: configuration.endpoint,
                connectTimeout: configuration.connectTimeout,
                commandTimeout: configuration.commandTimeout
            )
        }
        self.cluster = configuration.isCluster ? RedisCluster(configuration: configuration, logger: logger) : nil
    }

    /// Lives until graceful shutdown (refreshing a cluster's slot map meanwhile), then closes
    /// the connections, so in-flight calls finish first.
    public func run() async throws {
        if let cluster {
            await cancelWhenGracefulShutdown { await cluster.refreshPeriodically() }
        } else {
            try? await gracefulShutdown()
        }
        await shutdown()
    }

    /// Closes the connections now, for clients used outside a service group (tools, tests).
    public func shutdown() async {
        await pool.shutdown()
        await cluster?.shutdown()
    }

    /// Connections open, leased and waited for (summed over a cluster's nodes).
    public var poolUsage: BlockingConnectionPool<RedisConnection>.Usage { cluster?.usage ?? pool.usage }

    /// `MOVED` and `ASK` redirects followed so far on a cluster; nil for one Redis.
    public var clusterRedirects: (moved: Int, asked: Int)? {
        cluster.map { ($0.redirects.moved, $0.redirects.asked) }
    }

    /// Sends one command. An error reply throws ``RedisError``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        if let cluster { return try Self.checked(try await cluster.send(command)) }
        return try Self.checked(try await pool.run { try $0.execute(command) })
    }

    /// The reply, or the error it is: ``RedisError``, or ``DependencyUnavailableError`` for
    /// a server that is still loading.
    public static func checked(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply {
            // A server still loading its data after a restart answers every command this
            // way: unavailable for now (503 and retry), not a failed command.
            // A cluster that lost a master answers CLUSTERDOWN until a replica takes over.
            if message.hasPrefix("LOADING") || message.hasPrefix("CLUSTERDOWN") {
                throw DependencyUnavailableError(dependency: "redis", reason: message)
            }
            throw RedisError(message: message)
        }
        return reply
    }

    @discardableResult
    public func send(_ arguments: any RedisArgument...) async throws -> RedisReply {
        try await send(RedisCommand(arguments))
    }

    /// Sends many commands in one round trip. Error replies come back in place as
    /// `.error`, so one failing command does not hide the others' results.
    /// On a cluster, one pipeline per node.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await pipeline(commands, prelude: nil)
    }

    /// `commands` in one pipeline behind `prelude` (on a cluster, behind it on every node), the
    /// prelude's reply left out.
    func pipeline(_ commands: [RedisCommand], prelude: RedisCommand?) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        if let cluster { return try await cluster.pipeline(commands, prelude: prelude) }
        guard let prelude else { return try await pool.run { try $0.pipeline(commands) } }
        return Array(try await pool.run { try $0.pipeline([prelude] + commands) }.dropFirst())
    }

    // MARK: Common commands

    public func ping() async throws {
        _ = try await send("PING")
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await send("GET", key).bytes
    }

    /// SET, with an optional expiry.
    public func set(_ key: String, _ value: some RedisArgument, expiry: Duration? = nil) async throws {
        if let expiry {
            try await send("SET", key, value, "PX", Int(max(1, expiry.millisecondsRoundedUp)))
        } else {
            try await send("SET", key, value)
        }
    }

    @discardableResult
    public func delete(_ keys: String...) async throws -> Int {
        try await send(RedisCommand(["DEL"] + keys)).int ?? 0
    }

    /// Publishes on a channel; returns how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, _ message: some RedisArgument) async throws -> Int {
        try await send("PUBLISH", channel, message).int ?? 0
    }
}
