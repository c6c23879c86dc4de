import Logging
import NIOConcurrencyHelpers
import Shared
import Synchronization

/// The instance's current ``FlagSnapshot`` and the live subscribers to its changes.
///
/// Evaluations read the snapshot (a pointer under a lock); changes, from this instance's own
/// writes, from pub/sub or from a full reload, are applied one at a time and fanned out to
/// the SSE subscribers.
final class FlagStore: Sendable {
    /// What an SSE subscriber receives.
    enum Item: Sendable {
        case change(sequence: Int64, EntityChange)
        case keepAlive
    }

    /// A subscriber's start: the changes it missed since its `Last-Event-ID`, or nil when
    /// they cannot be told (another instance's id, or too old) and it needs a full snapshot.
    struct Subscription: Sendable {
        let id: Int
        let replay: [Item]?
        let snapshot: FlagSnapshot
        /// The id of the snapshot state, for the snapshot event.
        let sequence: Int64
        let items: AsyncStream<Item>
    }

    private struct State {
        var snapshot = FlagSnapshot.empty
        var loaded = false
        var sequence: Int64 = 0
        var recent: [(Int64, EntityChange)] = []
        var subscribers: [Int: AsyncStream<Item>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state = Mutex(State())
    /// Serializes the builders of new snapshots, so the state lock is held only for the swap.
    private let writer = NIOLock()
    /// Distinguishes this instance's event ids from another's (and from its own before a
    /// restart) in `Last-Event-ID`.
    let epoch = UInt32.random(in: 1...UInt32.max)
    let recentCapacity: Int
    let subscriberBuffer: Int
    let logger: Logger

    init(recentCapacity: Int = 1024, subscriberBuffer: Int = 1024, logger: Logger) {
        self.recentCapacity = recentCapacity
        self.subscriberBuffer = subscriberBuffer
        self.logger = logger
    }

    var snapshot: FlagSnapshot { state.withLock { $0.snapshot } }

    /// True once a full load from PostgreSQL has been applied: before that the instance is
    /// not ready.
    var isLoaded: Bool { state.withLock { $0.loaded } }

    /// Applies what is newer than the snapshot holds; returns what took.
    @discardableResult
    func apply(_ changes: [EntityChange], fullLoad: Bool = false) -> [EntityChange] {
        writer.withLock {
            let (next, applied) = snapshot.applying(changes, logger: logger)
            state.withLock { state in
                state.snapshot = next
                if fullLoad { state.loaded = true }
                for change in applied {
                    state.sequence += 1
                    state.recent.append((state.sequence, change))
                    for (id, continuation) in state.subscribers {
                        if case .dropped = continuation.yield(.change(sequence: state.sequence, change)) {
                            // Too slow to keep up: it reconnects and resumes from its last id.
                            continuation.finish()
                            state.subscribers[id] = nil
                        }
                    }
                }
                if state.recent.count > recentCapacity { state.recent.removeFirst(state.recent.count - recentCapacity) }
            }
            for change in applied {
                logger.debug(
                    "flag change applied",
                    metadata: [
                        "flags.kind": "\(change.kind.rawValue)", "flags.key": "\(change.name)", "flags.version": "\(change.version)",
                    ]
                )
            }
            return applied
        }
    }

    /// Subscribes to changes. `lastEventID` is the `Last-Event-ID` the client sent.
    func subscribe(lastEventID: String?) -> Subscription {
        let (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(subscriberBuffer))
        return state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            var replay: [Item]?
            if let last = lastEventID.flatMap(parseEventID), last <= state.sequence {
                let oldest = state.recent.first?.0 ?? state.sequence + 1
                if last >= oldest - 1 {
                    replay = state.recent.filter { $0.0 > last }.map { .change(sequence: $0.0, $0.1) }
                }
            }
            return Subscription(id: id, replay: replay, snapshot: state.snapshot, sequence: state.sequence, items: items)
        }
    }

    func unsubscribe(_ id: Int) {
        state.withLock { $0.subscribers.removeValue(forKey: id) }?.finish()
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    func keepAlive() {
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(.keepAlive) }
        }
    }

    /// Ends every stream (graceful shutdown).
    func closeSubscribers() {
        let all = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }

    /// `<epoch>.<sequence>`.
    func eventID(_ sequence: Int64) -> String { "\(epoch).\(sequence)" }

    private func parseEventID(_ text: String) -> Int64? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, UInt32(parts[0]) == epoch else { return nil }
        return Int64(parts[1])
    }
}
