import NIOConcurrencyHelpers
import Shared

/// One client connection's side of live delivery: what the hub hands it and the session
/// sends.
///
/// The hub's `offer` never waits: a connection that is recovering (replaying from the
/// subscriber's stream) buffers live messages for the seam; a live one queues them for its
/// session; one whose queue is full is closed as too slow (``CloseReason/tooSlow``) and
/// `onSlow` runs, so a stuck socket is cut without delaying anyone else.
final class DeliveryConnection: Sendable {
    enum Signal: Sendable {
        case event(LiveMessage)
        /// Read the subscriber's stream from the last position sent (after the live feed
        /// was away).
        case catchUp
        case keepAlive
    }

    /// Why the server ends a connection, with the WebSocket close code it sends (documented
    /// in the README). Every one but `filterDeleted` and the refusals can be resumed with
    /// the last id received.
    enum CloseReason: Sendable, Equatable {
        case badRequest(String)
        case unauthorized(String)
        case forbidden(String)
        case unknownSubscriber
        case filterDeleted
        case tooSlow
        case unavailable
        case shutdown
        case clientClosed

        var code: UInt16 {
            switch self {
            case .badRequest: 4400
            case .unauthorized: 4401
            case .forbidden: 4403
            case .unknownSubscriber: 4404
            case .filterDeleted: 4410
            case .tooSlow: 4408
            case .unavailable: 4503
            case .shutdown: 1001
            case .clientClosed: 1000
            }
        }

        var text: String {
            switch self {
            case .badRequest(let detail), .unauthorized(let detail), .forbidden(let detail): detail
            case .unknownSubscriber: "no filter for this subscriber"
            case .filterDeleted: "the subscriber's filter was deleted"
            case .tooSlow: "the client fell behind; resume with since=<last id>"
            case .unavailable: "the event store is unavailable; resume with since=<last id>"
            case .shutdown: "the server is shutting down; resume with since=<last id>"
            case .clientClosed: "closed"
            }
        }

        var label: String {
            switch self {
            case .badRequest: "bad_request"
            case .unauthorized, .forbidden: "refused"
            case .unknownSubscriber: "unknown_subscriber"
            case .filterDeleted: "filter_deleted"
            case .tooSlow: "slow"
            case .unavailable: "unavailable"
            case .shutdown: "shutdown"
            case .clientClosed: "client"
            }
        }
    }

    enum Transport: Sendable { case webSocket, eventStream }

    private struct State {
        var recovering = true
        var pending: [LiveMessage] = []
        var pendingOverflowed = false
        var queued = 0
        var closeReason: CloseReason?
    }

    let subscriberID: String
    let transport: Transport
    let signals: AsyncStream<Signal>
    private let continuation: AsyncStream<Signal>.Continuation
    private let state = NIOLockedValueBox(State())
    private let queueLimit: Int
    private let onSlow: @Sendable () -> Void

    init(subscriberID: String, transport: Transport, queueLimit: Int, onSlow: @escaping @Sendable () -> Void) {
        self.subscriberID = subscriberID
        self.transport = transport
        self.queueLimit = queueLimit
        self.onSlow = onSlow
        (signals, continuation) = AsyncStream.makeStream()
    }

    /// A live message from the feed; never waits.
    func offer(_ message: LiveMessage) {
        let slow = state.withLockedValue { state -> Bool in
            guard state.closeReason == nil else { return false }
            if state.recovering {
                if state.pending.count < queueLimit { state.pending.append(message) } else { state.pendingOverflowed = true }
                return false
            }
            guard state.queued < queueLimit else {
                state.closeReason = .tooSlow
                return true
            }
            state.queued += 1
            continuation.yield(.event(message))
            return false
        }
        if slow {
            continuation.finish()
            onSlow()
        }
    }

    /// The session took a queued event.
    func took() {
        state.withLockedValue { $0.queued -= 1 }
    }

    /// Live messages are buffered from now on, until ``goLive()``.
    func startRecovering() {
        state.withLockedValue { state in
            state.recovering = true
            state.pending = []
            state.pendingOverflowed = false
        }
    }

    /// Asks the session to read what it may have missed.
    func requestCatchUp() { send(.catchUp) }

    func keepAlive() { send(.keepAlive) }

    /// A signal that is not a queued event (it does not count against the queue).
    private func send(_ signal: Signal) {
        state.withLockedValue { state in
            guard state.closeReason == nil else { return }
            continuation.yield(signal)
        }
    }

    /// Ends recovery: the messages buffered meanwhile, in order, or nil when more arrived
    /// than the buffer holds (the session reads the stream again, still recovering).
    func goLive() -> [LiveMessage]? {
        state.withLockedValue { state in
            if state.pendingOverflowed {
                state.pending = []
                state.pendingOverflowed = false
                return nil
            }
            state.recovering = false
            defer { state.pending = [] }
            return state.pending
        }
    }

    /// Ends the connection's signals; the session closes with `reason` (the first one given).
    func close(_ reason: CloseReason) {
        state.withLockedValue { state in
            if state.closeReason == nil { state.closeReason = reason }
        }
        continuation.finish()
    }

    var closeReason: CloseReason? { state.withLockedValue { $0.closeReason } }

    var queued: Int { state.withLockedValue { $0.queued } }
}
