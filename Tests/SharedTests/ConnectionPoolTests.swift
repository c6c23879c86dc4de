import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import Shared

/// An in-memory connection: the pool's logic is what is under test here.
final class FakeConnection: BlockingConnection, Sendable {
    let id: Int
    private let state = NIOLockedValueBox((broken: false, alive: true, closed: false))
    init(id: Int) { self.id = id }
    var isBroken: Bool { state.withLockedValue { $0.broken } }
    func isAlive() -> Bool { state.withLockedValue { $0.alive } }
    func close() { state.withLockedValue { $0.closed = true } }
    func breakIt() { state.withLockedValue { $0.broken = true } }
    func kill() { state.withLockedValue { $0.alive = false } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }
}

@Suite("Connection pool")
struct ConnectionPoolTests {
    final class Factory: Sendable {
        let made = NIOLockedValueBox<[FakeConnection]>([])
        let failing = NIOLockedValueBox(false)
        func connect() throws -> FakeConnection {
            if failing.withLockedValue({ $0 }) { throw DependencyUnavailableError(dependency: "fake", reason: "refused") }
            return made.withLockedValue { made in
                let connection = FakeConnection(id: made.count)
                made.append(connection)
                return connection
            }
        }
        var count: Int { made.withLockedValue { $0.count } }
    }

    func pool(
        size: Int,
        leaseTimeout: Duration = .seconds(5),
        backoff: Backoff = Backoff(),
        maxWaiters: Int = 1024,
        factory: Factory
    ) -> BlockingConnectionPool<FakeConnection> {
        BlockingConnectionPool(
            dependency: "fake",
            configuration: .init(size: size, leaseTimeout: leaseTimeout, reconnectBackoff: backoff, maxWaiters: maxWaiters),
            logger: TestEnvironment.logger
        ) { try factory.connect() }
    }

    /// No threads until the first connection, so a client made but never used holds none;
    /// a pool closed before its first use starts none either.
    @Test func threadsStartWithTheFirstConnection() async throws {
        let factory = Factory()
        let used = pool(size: 4, factory: factory)
        #expect(!used.threadsAreStarted)
        #expect(try await used.run { $0.id } == 0)
        #expect(used.threadsAreStarted)
        await used.shutdown()

        let unused = pool(size: 4, factory: factory)
        await unused.shutdown()
        await #expect(throws: DependencyUnavailableError.self) { try await unused.run { $0.id } }
        #expect(!unused.threadsAreStarted)
    }

    @Test func reusesConnectionsAndNeverExceedsItsSize() async throws {
        let factory = Factory()
        // Counts are under test, not time: in the parallel pass this chain of 50 leases can
        // wait seconds for a cooperative thread, which the default 5 s lease timeout mistook
        // for a pool that never hands connections over.
        let pool = pool(size: 3, leaseTimeout: .seconds(60), factory: factory)
        let busy = NIOLockedValueBox((now: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await pool.run { _ in
                        busy.withLockedValue {
                            $0.now += 1
                            $0.peak = max($0.peak, $0.now)
                        }
                        usleep(1000)
                        busy.withLockedValue { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(factory.count <= 3)
        #expect(busy.withLockedValue { $0.peak } <= 3)
        #expect(pool.usage.open == factory.count && pool.usage.leased == 0 && pool.usage.waiting == 0)
        await pool.shutdown()
        #expect(factory.made.withLockedValue { $0 }.allSatisfy { $0.isClosed })
    }

    @Test func aWaiterTimesOutWithAClearError() async throws {
        let factory = Factory()
        let pool = pool(size: 1, leaseTimeout: .milliseconds(100), factory: factory)
        try await pool.withConnection { _ in
            let start = ContinuousClock.now
            await #expect(throws: DependencyUnavailableError.self) { try await pool.run { _ in 1 } }
            #expect(ContinuousClock.now - start >= .milliseconds(90))
        }
        #expect(try await pool.run { $0.id } == 0)  // the connection is free again
        await pool.shutdown()
    }

    @Test func waitersBeyondTheLimitFailAtOnceAndTheRestAreServedInOrder() async throws {
        let factory = Factory()
        let pool = pool(size: 1, leaseTimeout: .seconds(60), maxWaiters: 3, factory: factory)
        let served = NIOLockedValueBox<[Int]>([])
        let waiters = try await pool.withConnection { _ in
            var waiters: [Task<Void, any Error>] = []
            for index in 0..<3 {
                waiters.append(Task { try await pool.run { _ in served.withLockedValue { $0.append(index) } } })
                #expect(await eventually { pool.usage.waiting == index + 1 })
            }
            let start = ContinuousClock.now
            let error = await #expect(throws: DependencyUnavailableError.self) { try await pool.run { _ in 1 } }
            #expect(error?.reason.contains("3 callers already waiting") == true)
            #expect(ContinuousClock.now - start < .seconds(30))  // refused, not queued until the lease timeout
            return waiters
        }
        for waiter in waiters { try await waiter.value }
        #expect(served.withLockedValue { $0 } == [0, 1, 2])
        #expect(pool.usage.open == 1 && pool.usage.leased == 0 && pool.usage.waiting == 0)
        await pool.shutdown()
    }

    @Test func manyWaitersTimingOutLeaveNothingBehind() async throws {
        let factory = Factory()
        let pool = pool(size: 1, leaseTimeout: .milliseconds(20), maxWaiters: 5000, factory: factory)
        let timedOut = try await pool.withConnection { _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<3000 {
                    group.addTask {
                        do {
                            _ = try await pool.run { _ in 1 }
                            return false
                        } catch is DependencyUnavailableError { return true }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        #expect(timedOut == 3000)
        #expect(pool.usage.open == 1 && pool.usage.leased == 0 && pool.usage.waiting == 0)
        #expect(try await pool.run { $0.id } == 0)
        await pool.shutdown()
    }

    @Test func brokenAndDeadConnectionsAreReplaced() async throws {
        let factory = Factory()
        let pool = pool(size: 1, factory: factory)
        try await pool.run { $0.breakIt() }
        #expect(try await pool.run { $0.id } == 1)  // the broken one was dropped
        try await pool.run { $0.kill() }  // dies while idle (server restart)
        #expect(try await pool.run { $0.id } == 2)
        #expect(factory.made.withLockedValue { $0 }.prefix(2).allSatisfy { $0.isClosed })
        await pool.shutdown()
    }

    @Test func shutdownFailsWaitersAndLaterLeases() async throws {
        let factory = Factory()
        let pool = pool(size: 1, factory: factory)
        let waiter = try await pool.withConnection { _ in
            let waiter = Task { try await pool.run { _ in 1 } }
            #expect(await eventually { pool.usage.waiting == 1 })
            await pool.shutdown()
            return waiter
        }
        await #expect(throws: DependencyUnavailableError.self) { try await waiter.value }
        await #expect(throws: DependencyUnavailableError.self) { try await pool.run { _ in 1 } }
    }
}

/// Exclusive (run alone, after the parallel pass): the lease right after a failed connect must
/// come within the 300 ms backoff, which a machine busy with the rest of the suite can miss.
@Suite("Exclusive connection pool backoff")
struct ExclusiveConnectionPoolTests {
    let base = ConnectionPoolTests()

    @Test func afterAFailedConnectLeasesFailFastUntilTheBackoffEnds() async throws {
        let factory = ConnectionPoolTests.Factory()
        let pool = base.pool(size: 2, backoff: Backoff(initial: .milliseconds(300), maximum: .milliseconds(300)), factory: factory)
        factory.failing.withLockedValue { $0 = true }
        await #expect(throws: DependencyUnavailableError.self) { try await pool.run { _ in 1 } }
        factory.failing.withLockedValue { $0 = false }
        // Within the backoff the pool does not even try: it answers at once.
        do {
            _ = try await pool.run { _ in 1 }
            Issue.record("a lease within the backoff succeeded")
        } catch let error as DependencyUnavailableError {
            #expect(error.retryAfter > .zero && error.retryAfter <= .milliseconds(300))
        }
        #expect(factory.count == 0)
        #expect(await eventually(timeout: .seconds(2)) { try await pool.run { _ in true } })
        await pool.shutdown()
    }
}
