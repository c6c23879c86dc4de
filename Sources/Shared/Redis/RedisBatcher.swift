import ServiceLifecycle

/// Gathers commands and pipelines sent at the same time into larger pipelines (a ``Batcher``
/// of commands).
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
    private let redis: RedisClient
    /// Items are the callers' pipelines (one command for ``send(_:)``), weighed by length.
    private let batcher: Batcher<[RedisCommand], [RedisReply]>

    public init(redis: RedisClient, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.redis = redis
        self.batcher = Batcher(flushers: configuration.flushers, maximumWeight: configuration.maximumBatch, dependency: "redis") { batch in
            var replies = try await redis.pipeline(batch.flatMap { $0 })[...]
            return batch.map { commands in
                defer { replies = replies.dropFirst(commands.count) }
                return Array(replies.prefix(commands.count))
            }
        }
    }

    /// Commands sent (`items`) and the pipelines that carried them (`batches`).
    public var usage: Batcher<[RedisCommand], [RedisReply]>.Usage { batcher.usage }

    /// Sends `command` in the next pipeline. Error replies throw as ``RedisClient/send(_:)``
    /// throws them.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try RedisClient.checked(try await batcher.submit([command])[0])
    }

    /// Sends `commands` in order within the next pipeline, others' commands around them; the
    /// replies as ``RedisClient/pipeline(_:)`` gives them (error replies in place).
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await batcher.submit(commands, weight: commands.count)
    }

    /// Runs `evalsha`, an `EVALSHA` of `script`, in the next pipeline. On `NOSCRIPT` (Redis
    /// restarted or flushed its scripts) every concurrent caller learns it at once, so the
    /// `SCRIPT LOAD` and the second try go through the pipelines as well, not one round trip
    /// each; only a flush between the two falls back to a load and call in one pipeline.
    public func run(_ evalsha: RedisCommand, of script: RedisScript) async throws -> RedisReply {
        do {
            return try await send(evalsha)
        } catch let error as RedisError where error.code == "NOSCRIPT" {
            _ = try await send(RedisCommand("SCRIPT", "LOAD", script.source))
            do {
                return try await send(evalsha)
            } catch let error as RedisError where error.code == "NOSCRIPT" {
                return try await redis.run(evalsha, of: script)
            }
        }
    }

    public func run() async throws {
        try await batcher.run()
    }
}
