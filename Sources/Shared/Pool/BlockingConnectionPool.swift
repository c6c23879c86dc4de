import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A pool of connections whose calls block, with the threads to run them on.
///
/// The pool owns an `NIOThreadPool` with one thread per connection, so a leased connection
/// always has a thread to block on and blocking never reaches an event loop or the Swift
/// cooperative pool. The threads start with the first connection, not with the pool: a
/// client that is made but never used holds none, and since a service group starts its
/// services concurrently, a call made before the owning client's `run()` works all the
/// same. Connections are created lazily, reused LIFO (hot ones stay hot), and
/// dropped when broken. After a failed connect the pool backs off: until the backoff ends,
/// leases fail at once with ``DependencyUnavailableError`` instead of waiting on a server
/// that is down.
public final class BlockingConnectionPool<Connection: BlockingConnection>: Sendable {
    public struct Configuration: Sendable {
        /// Connections (and threads) at most.
        public var size: Int
        /// How long a caller waits for a free connection before failing.
        public var leaseTimeout: Duration
        /// Delay between connect attempts after failures.
        public var reconnectBackoff: Backoff
        /// Callers waiting for a connection at most; one more fails at once with
        /// ``DependencyUnavailableError`` (a 503) instead of adding to a queue that would only
        /// time out. Default 1024.
        public var maxWaiters: Int

        public init(size: Int, leaseTimeout: Duration = .seconds(5), reconnectBackoff: Backoff = Backoff(), maxWaiters: Int = 1024) {
            self.size = max(1, size)
            self.leaseTimeout = leaseTimeout
            self.reconnectBackoff = reconnectBackoff
            self.maxWaiters = max(0, maxWaiters)
        }
    }

    /// Counts for metrics and tests.
    public struct Usage: Sendable, Equatable {
        public var open: Int
        public var leased: Int
        public var waiting: Int
    }

    private enum Grant: Sendable {
        case connection(Connection)
        case create
    }

    private enum Decision {
        case grant(Grant)
        case fail(any Error)
        case wait
    }

    private enum ReleaseOutcome {
        case handedOver(Waiter)
        case discard(Waiter?)
        case pooled
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Grant, any Error>
        /// The lease timeout; cancelled when the waiter is served, so timers do not pile up
        /// on the event loop under sustained load.
        var timeout: Scheduled<Void>?

        func resume(with result: Result<Grant, any Error>) {
            timeout?.cancel()
            continuation.resume(with: result)
        }
    }

    private struct State {
        var idle: [Connection] = []
        /// Connections that exist or are being created.
        var open = 0
        var leased = 0
        var waiters = WaiterQueue<Waiter>()
        var nextWaiterID = 0
        var consecutiveFailures = 0
        var retryAt: NIODeadline?
        var lastFailure = "not connected"
        var closed = false
    }

    public let dependency: String
    public let configuration: Configuration
    private let threadPool: NIOThreadPool
    /// Whether the threads were started; guarded by its own lock, since starting them waits
    /// for the threads and must not hold up callers of `state`.
    private let threadsStarted = NIOLockedValueBox(false)
    private let connect: @Sendable () throws -> Connection
    private let state = NIOLockedValueBox(State())
    private let timerLoop: any EventLoop
    private let logger: Logger

    /// - Parameters:
    ///   - dependency: name used in errors and logs (`redis`, `postgres`).
    ///   - connect: opens one connection; runs on a pool thread and may block.
    public init(
        dependency: String,
        configuration: Configuration,
        logger: Logger,
        connect: @escaping @Sendable () throws -> Connection
    ) {
        self.dependency = dependency
        self.configuration = configuration
        self.logger = logger
        self.connect = connect
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.size)
        self.timerLoop = MultiThreadedEventLoopGroup.singleton.next()
    }

    public var usage: Usage {
        state.withLockedValue { Usage(open: $0.open, leased: $0.leased, waiting: $0.waiters.count) }
    }

    /// Runs `body` with a leased connection on one of the pool's threads.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await runBlocking { try body(connection) }
    }

    /// Leases one connection for the whole of `body`, for work that spans several calls
    /// (a transaction). `body` must use ``runBlocking(_:)`` for every call on it.
    public func withConnection<T: Sendable>(_ body: (Connection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await body(connection)
    }

    /// Runs blocking work on the pool's threads.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw DependencyUnavailableError(dependency: dependency, reason: "client is shut down")
        }
    }

    /// Closes idle connections, fails waiters and stops the threads. Leased connections are
    /// closed when they come back.
    public func shutdown() async {
        let (idle, waiters) = state.withLockedValue { state in
            state.closed = true
            defer { state.idle = [] }
            state.open -= state.idle.count
            return (state.idle, state.waiters.removeAll())
        }
        for waiter in waiters {
            waiter.resume(with: .failure(closedError))
        }
        // Taken after `closed` is set, so no connection is started after this.
        threadsStarted.withLockedValue { _ in }
        try? await threadPool.runIfActive { for connection in idle { connection.close() } }
        try? await threadPool.shutdownGracefully()
    }

    /// Whether the threads run (they start with the first connection).
    var threadsAreStarted: Bool { threadsStarted.withLockedValue { $0 } }

    /// Starts the threads once, unless the pool is closed (a closed pool's calls fail as
    /// shut down instead of starting threads nobody would stop).
    private func startThreads() {
        threadsStarted.withLockedValue { started in
            guard !started, !state.withLockedValue(\.closed) else { return }
            threadPool.start()
            started = true
        }
    }

    // MARK: Leasing

    private var closedError: DependencyUnavailableError {
        DependencyUnavailableError(dependency: dependency, reason: "client is shut down")
    }

    private func lease() async throws -> Connection {
        switch try await acquire() {
        case .connection(let connection):
            if connection.isAlive() { return connection }
            discard(connection)
            return try await lease()
        case .create:
            do {
                startThreads()
                let connection = try await runBlocking(connect)
                state.withLockedValue { state in
                    state.consecutiveFailures = 0
                    state.retryAt = nil
                    state.leased += 1
                }
                return connection
            } catch {
                let reason = String(describing: error)
                let (attempt, waiter) = state.withLockedValue { state -> (Int, Waiter?) in
                    state.consecutiveFailures += 1
                    let delay = configuration.reconnectBackoff.delay(attempt: state.consecutiveFailures)
                    state.retryAt = .now() + TimeAmount(delay)
                    state.lastFailure = reason
                    state.open -= 1
                    return (state.consecutiveFailures, popWaiterForNewConnection(&state))
                }
                waiter?.resume(with: .success(.create))
                if attempt == 1 {
                    logger.warning("connect failed", metadata: ["pool.dependency": "\(dependency)", "error": "\(reason)"])
                }
                throw DependencyUnavailableError(
                    dependency: dependency,
                    reason: reason,
                    retryAfter: configuration.reconnectBackoff.ceiling(attempt: attempt)
                )
            }
        }
    }

    /// Takes an idle connection, a slot to create one, or a place in the queue.
    private func acquire() async throws -> Grant {
        switch state.withLockedValue({ decide(&$0) }) {
        case .grant(let grant): return grant
        case .fail(let error): throw error
        case .wait: return try await waitForGrant()
        }
    }

    private func decide(_ state: inout State) -> Decision {
        if state.closed { return .fail(closedError) }
        if let connection = state.idle.popLast() {
            state.leased += 1
            return .grant(.connection(connection))
        }
        if state.open < configuration.size {
            if let retryAt = state.retryAt, retryAt > .now() {
                let wait = Duration.nanoseconds((retryAt - .now()).nanoseconds)
                return .fail(DependencyUnavailableError(dependency: dependency, reason: state.lastFailure, retryAfter: wait))
            }
            state.open += 1
            return .grant(.create)
        }
        return .wait
    }

    private func waitForGrant() async throws -> Grant {
        let id = state.withLockedValue { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        let timeout = configuration.leaseTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                // Decided again under the lock that enqueues: a connection released since
                // `acquire` looked would otherwise sit idle while this waiter times out.
                let decision = state.withLockedValue { state -> Decision in
                    let decision = decide(&state)
                    guard case .wait = decision else { return decision }
                    guard state.waiters.count < configuration.maxWaiters else {
                        return .fail(
                            DependencyUnavailableError(
                                dependency: dependency,
                                reason: "\(configuration.maxWaiters) callers already waiting for a connection",
                                retryAfter: .seconds(1)
                            )
                        )
                    }
                    state.waiters.append(Waiter(continuation: continuation), id: id)
                    return decision
                }
                switch decision {
                case .grant(let grant):
                    continuation.resume(returning: grant)
                    return
                case .fail(let error):
                    continuation.resume(throwing: error)
                    return
                case .wait:
                    break
                }
                let timer = timerLoop.scheduleTask(in: TimeAmount(timeout)) {
                    self.failWaiter(
                        id: id,
                        with: DependencyUnavailableError(
                            dependency: self.dependency,
                            reason: "no connection free within \(timeout)",
                            retryAfter: .seconds(1)
                        )
                    )
                }
                let served = state.withLockedValue { state in
                    !state.waiters.update(id: id) { $0.timeout = timer }
                }
                if served { timer.cancel() }
            }
        } onCancel: {
            failWaiter(id: id, with: CancellationError())
        }
    }

    private func failWaiter(id: Int, with error: any Error) {
        let waiter = state.withLockedValue { $0.waiters.remove(id: id) }
        waiter?.resume(with: .failure(error))
    }

    private func popWaiterForNewConnection(_ state: inout State) -> Waiter? {
        guard !state.closed, state.open < configuration.size, let waiter = state.waiters.popFirst() else { return nil }
        state.open += 1
        return waiter
    }

    /// Drops a leased connection that turned out dead before use.
    private func discard(_ connection: Connection) {
        let waiter = state.withLockedValue { state -> Waiter? in
            state.leased -= 1
            state.open -= 1
            return popWaiterForNewConnection(&state)
        }
        threadPool.submit { _ in connection.close() }
        waiter?.resume(with: .success(.create))
    }

    private func release(_ connection: Connection) {
        let outcome = state.withLockedValue { state -> ReleaseOutcome in
            state.leased -= 1
            if connection.isBroken || state.closed {
                state.open -= 1
                return .discard(popWaiterForNewConnection(&state))
            }
            if let waiter = state.waiters.popFirst() {
                state.leased += 1
                return .handedOver(waiter)
            }
            state.idle.append(connection)
            return .pooled
        }
        switch outcome {
        case .handedOver(let waiter):
            waiter.resume(with: .success(.connection(connection)))
        case .discard(let waiter):
            threadPool.submit { _ in connection.close() }
            waiter?.resume(with: .success(.create))
        case .pooled:
            break
        }
    }
}
