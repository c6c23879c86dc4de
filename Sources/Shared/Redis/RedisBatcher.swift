import ServiceLifecycle

/// Gathers single commands sent at the same time into pipelines (a ``Batcher`` of commands).
///
/// A request path that sends one command per request pays a connection lease, a hop to a
/// blocking thread and a socket write and read for each. Under concurrency, the flushers take
/// everything queued since their last round trip and send it as one pipeline, so that cost is
/// paid per batch.
///
/// Replies keep Redis's per-command semantics: each command is answered or failed on its own,
/// in the order it was queued, and a pipeline is not a transaction. Run it as a `Service`
/// placed before the HTTP server.
public final class RedisBatcher: Service, Sendable {
    /// Defaults: 4 flushers, 256 commands per pipeline at most.
    public struct Configuration: Sendable {
        /// Pipelines in flight at once; each holds one pooled connection while it runs.
        public var flushers: Int
        /// The most commands in one pipeline.
        public var maximumBatch: Int

        public init(flushers: Int = 4, maximumBatch: Int = 256) {
            self.flushers = max(1, flushers)
            self.maximumBatch = max(1, maximumBatch)
        }
    }

    public let configuration: Configuration
    private let batcher: Batcher<RedisCommand, RedisReply>

    public init(redis: RedisClient, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.batcher = Batcher(flushers: configuration.flushers, maximumWeight: configuration.maximumBatch, dependency: "redis") {
            try await redis.pipeline($0)
        }
    }

    /// Commands sent (`items`) and the pipelines that carried them (`batches`).
    public var usage: Batcher<RedisCommand, RedisReply>.Usage { batcher.usage }

    /// Sends `command` in the next pipeline. Error replies throw as ``RedisClient/send(_:)``
    /// throws them.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try RedisClient.checked(try await batcher.submit(command))
    }

    public func run() async throws {
        try await batcher.run()
    }
}
