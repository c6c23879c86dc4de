import NIOConcurrencyHelpers
import ServiceLifecycle

/// Gathers single commands sent at the same time into pipelines.
///
/// A request path that sends one command per request pays a connection lease, a hop to a
/// blocking thread and a socket write and read for each. Under concurrency, the batcher's
/// flushers take everything queued since their last round trip and send it as one pipeline,
/// so that cost is paid per batch. When there is no concurrency a command goes out at once
/// (a flusher is idle), so latency does not grow at low load.
///
/// Replies keep Redis's per-command semantics: each command is answered or failed on its own,
/// in the order it was queued, and a pipeline is not a transaction. Run it as a `Service`
/// placed before the HTTP server, so on graceful shutdown it drains what is queued after the
/// server has stopped taking requests.
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

    private struct Pending {
        let command: RedisCommand
        let continuation: CheckedContinuation<RedisReply, any Error>
    }

    /// Counts for metrics and tests.
    public struct Usage: Sendable, Equatable {
        /// Commands sent so far, and the pipelines that carried them.
        public var commands = 0
        public var pipelines = 0
        /// Commands waiting for a flusher now.
        public var queued = 0
    }

    private struct State {
        var queue: [Pending] = []
        var idleFlushers: [CheckedContinuation<Void, Never>] = []
        var closed = false
        var usage = Usage()
    }

    public let configuration: Configuration
    private let redis: RedisClient
    private let state = NIOLockedValueBox(State())

    public init(redis: RedisClient, configuration: Configuration = Configuration()) {
        self.redis = redis
        self.configuration = configuration
    }

    public var usage: Usage {
        state.withLockedValue { state in
            var usage = state.usage
            usage.queued = state.queue.count
            return usage
        }
    }

    /// Sends `command` in the next pipeline. Error replies throw as ``RedisClient/send(_:)``
    /// throws them.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisReply, any Error>) in
            let (accepted, flusher) = state.withLockedValue { state -> (Bool, CheckedContinuation<Void, Never>?) in
                if state.closed { return (false, nil) }
                state.queue.append(Pending(command: command, continuation: continuation))
                return (true, state.idleFlushers.popLast())
            }
            guard accepted else {
                continuation.resume(throwing: DependencyUnavailableError(dependency: "redis", reason: "client is shut down"))
                return
            }
            flusher?.resume()
        }
        return try RedisClient.checked(reply)
    }

    /// Runs the flushers until graceful shutdown; then sends what is still queued and ends.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for _ in 0..<configuration.flushers {
                group.addTask { await self.flush() }
            }
            group.addTask {
                try? await gracefulShutdown()
                self.close()
            }
        }
    }

    private func close() {
        let idle = state.withLockedValue { state in
            state.closed = true
            defer { state.idleFlushers = [] }
            return state.idleFlushers
        }
        for flusher in idle { flusher.resume() }
    }

    private func flush() async {
        while let batch = await nextBatch() {
            do {
                let replies = try await redis.pipeline(batch.map(\.command))
                for (pending, reply) in zip(batch, replies) {
                    pending.continuation.resume(returning: reply)
                }
            } catch {
                for pending in batch {
                    pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// What is queued, up to the maximum; waits while nothing is. Nil once closed and drained.
    private func nextBatch() async -> [Pending]? {
        while true {
            let batch = state.withLockedValue { state -> [Pending]? in
                if state.queue.isEmpty { return state.closed ? [] : nil }
                let count = min(state.queue.count, configuration.maximumBatch)
                state.usage.commands += count
                state.usage.pipelines += 1
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            if let batch { return batch.isEmpty ? nil : batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wake = state.withLockedValue { state -> Bool in
                    if !state.queue.isEmpty || state.closed { return true }
                    state.idleFlushers.append(continuation)
                    return false
                }
                if wake { continuation.resume() }
            }
        }
    }
}
