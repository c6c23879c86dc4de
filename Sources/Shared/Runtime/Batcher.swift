import NIOConcurrencyHelpers
import ServiceLifecycle

/// Gathers work submitted at the same time into batches: each of its flushers takes
/// everything queued since its last round and hands it to `flush` as one batch.
///
/// Under concurrency a round trip (a pipeline, a transaction) is paid per batch, not per item;
/// with no concurrency an item goes out at once (a flusher is idle), so latency does not grow at
/// low load. `flush` answers every item of a batch in order, or throws and fails them all.
///
/// Run it as a `Service` placed before the HTTP server, so on graceful shutdown it drains
/// what is queued after the server has stopped taking requests.
public final class Batcher<Item: Sendable, Output: Sendable>: Service, Sendable {
    /// Counts for metrics and tests.
    public struct Usage: Sendable, Equatable {
        /// Items handed to `flush` so far, and the batches that carried them.
        public var items = 0
        public var batches = 0
        /// Items waiting for a flusher now.
        public var queued = 0
    }

    private struct Pending {
        let item: Item
        let weight: Int
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var idleFlushers: [CheckedContinuation<Void, Never>] = []
        var closed = false
        var usage = Usage()
    }

    private let flushers: Int
    private let maximumWeight: Int
    private let dependency: String
    private let flush: @Sendable ([Item]) async throws -> [Output]
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - flushers: batches in flight at once.
    ///   - maximumWeight: the most weight in one batch (an item heavier than that goes alone).
    ///   - dependency: named in the error items get once the batcher has shut down.
    ///   - flush: answers a batch, one output per item in order.
    public init(flushers: Int, maximumWeight: Int, dependency: String, flush: @escaping @Sendable ([Item]) async throws -> [Output]) {
        self.flushers = max(1, flushers)
        self.maximumWeight = max(1, maximumWeight)
        self.dependency = dependency
        self.flush = flush
    }

    public var usage: Usage {
        state.withLockedValue { state in
            var usage = state.usage
            usage.queued = state.queue.count
            return usage
        }
    }

    /// Queues `item` for the next batch and returns its output once that batch is answered.
    public func submit(_ item: Item, weight: Int = 1) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let (accepted, flusher) = state.withLockedValue { state -> (Bool, CheckedContinuation<Void, Never>?) in
                if state.closed { return (false, nil) }
                state.queue.append(Pending(item: item, weight: max(1, weight), continuation: continuation))
                return (true, state.idleFlushers.popLast())
            }
            guard accepted else {
                continuation.resume(throwing: DependencyUnavailableError(dependency: dependency, reason: "shutting down"))
                return
            }
            flusher?.resume()
        }
    }

    /// Runs the flushers until graceful shutdown; then flushes what is still queued and ends.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for _ in 0..<flushers {
                group.addTask { await self.flushLoop() }
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

    private func flushLoop() async {
        while let batch = await nextBatch() {
            do {
                let outputs = try await flush(batch.map(\.item))
                precondition(outputs.count == batch.count, "a batcher's flush answers every item")
                for (pending, output) in zip(batch, outputs) {
                    pending.continuation.resume(returning: output)
                }
            } catch {
                for pending in batch {
                    pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// What is queued, up to the maximum weight; waits while nothing is. Nil once closed and
    /// drained.
    private func nextBatch() async -> [Pending]? {
        while true {
            let batch = state.withLockedValue { state -> [Pending]? in
                if state.queue.isEmpty { return state.closed ? [] : nil }
                var count = 0
                var weight = 0
                for pending in state.queue {
                    if count > 0 && weight + pending.weight > maximumWeight { break }
                    count += 1
                    weight += pending.weight
                }
                state.usage.items += count
                state.usage.batches += 1
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
