import Logging

/// A pooled Redis client over hiredis.
///
/// Every call leases a connection and runs on a thread of the client's own pool; a call that
/// Redis does not answer within `commandTimeout` fails and drops its connection. While Redis
/// is unreachable, calls fail at once with ``DependencyUnavailableError`` (backing off between
/// reconnect attempts) and the client recovers by itself when Redis returns. Run it as a
/// `Service` so it closes its connections on graceful shutdown.
public final class RedisClient: PooledClient, Sendable {
    /// Defaults: pool of 16, connect timeout 1 s, command timeout 2 s.
    public struct Configuration: Sendable {
        public var endpoint: RedisEndpoint
        /// `REDIS_POOL_SIZE`: connections, and threads to block on.
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
            reconnectBackoff: Backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(1))
        ) {
            self.endpoint = endpoint
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.reconnectBackoff = reconnectBackoff
        }

        public init(environment env: EnvironmentReader) {
            self.init(
                endpoint: RedisEndpoint(url: env.string("REDIS_URL", default: "redis://127.0.0.1:6379")) ?? RedisEndpoint(),
                poolSize: env.int("REDIS_POOL_SIZE", default: 16),
                connectTimeout: env.milliseconds("REDIS_CONNECT_TIMEOUT_MS", default: .seconds(1)),
                commandTimeout: env.milliseconds("REDIS_TIMEOUT_MS", default: .seconds(2))
            )
        }
    }

    public let configuration: Configuration
    public let pool: BlockingConnectionPool<RedisConnection>
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
    }

    /// Sends one command. An error reply throws ``RedisError``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try Self.checked(try await pool.run { try $0.execute(command) })
    }

    /// The reply, or the error it is: ``RedisError``, or ``DependencyUnavailableError`` for
    /// a server that is still loading.
    static func checked(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply {
            // A server still loading its data after a restart answers every command this
            // way: unavailable for now (503 and retry), not a failed command.
            if message.hasPrefix("LOADING") { throw DependencyUnavailableError(dependency: "redis", reason: message) }
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
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await pool.run { try $0.pipeline(commands) }
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
