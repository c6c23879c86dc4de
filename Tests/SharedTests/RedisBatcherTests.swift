import Foundation
import ServiceLifecycle
import Shared
import TestSupport
import Testing

@Suite("Redis batcher", .teardown)
struct RedisBatcherTests {
    /// Runs `body` with a batcher whose flushers run until `body` returns, then shuts it down
    /// gracefully and waits for it to end.
    func withBatcher(
        _ configuration: RedisBatcher.Configuration = .init(),
        redisURL: String = TestEnvironment.redisURL,
        _ body: @Sendable (RedisBatcher, RedisClient) async throws -> Void
    ) async throws {
        try await withRedis(url: redisURL) { redis in
            let batcher = RedisBatcher(redis: redis, configuration: configuration)
            let group = ServiceGroup(services: [batcher], logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                do {
                    try await body(batcher, redis)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func concurrentCommandsShareRoundTripsAndEachGetsItsOwnReply() async throws {
        try await withBatcher(.init(flushers: 2)) { batcher, redis in
            let key = TestEnvironment.unique("batch:counter")
            let count = 2000
            let replies = try await withThrowingTaskGroup(of: (Int, String?, Int?).self) { group in
                for i in 0..<count {
                    group.addTask {
                        let echo = try await batcher.send(RedisCommand("ECHO", "value \(i)")).string
                        let counter = try await batcher.send(RedisCommand("INCR", key)).int
                        return (i, echo, counter)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.1 == "value \($0.0)" })
            #expect(Set(replies.compactMap(\.2)) == Set(1...count))
            #expect(try await redis.send("GET", key).string == "\(count)")
            let usage = batcher.usage
            #expect(usage.items == 2 * count)
            // Far fewer round trips than commands: that is the point of it.
            #expect(usage.batches < usage.items / 4, "\(usage)")
            try await redis.delete(key)
        }
    }

    /// Callers' pipelines travel together, each kept in order and whole, each getting its own
    /// replies, error replies in place. One flusher: one connection, so no other connection's
    /// commands can fall between a pipeline's (a pipeline is not a transaction).
    @Test func concurrentPipelinesShareRoundTripsInOrder() async throws {
        try await withBatcher(.init(flushers: 1)) { batcher, redis in
            let key = TestEnvironment.unique("batch:list")
            let callers = 200
            let replies = try await withThrowingTaskGroup(of: (Int, [RedisReply]).self) { group in
                for i in 0..<callers {
                    group.addTask {
                        // RPUSH a, RPUSH b, then a command that fails, then the list's tail.
                        let commands = [
                            RedisCommand("RPUSH", key, "\(i)a"), RedisCommand("RPUSH", key, "\(i)b"),
                            RedisCommand("INCR", key), RedisCommand("ECHO", "\(i)"),
                        ]
                        return (i, try await batcher.pipeline(commands))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (i, reply) in replies {
                #expect(reply.count == 4)
                #expect(reply[1].int.map { $0 - (reply[0].int ?? 0) } == 1, "each pipeline's commands run in order, together")
                if case .error(let message) = reply[2] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("\(reply[2])") }
                #expect(reply[3].string == "\(i)")
            }
            let list = try await redis.send("LRANGE", key, 0, -1).array?.compactMap(\.string) ?? []
            #expect(list.count == 2 * callers)
            for index in stride(from: 0, to: list.count, by: 2) {
                #expect(list[index].dropLast() == list[index + 1].dropLast() && list[index].hasSuffix("a"))
            }
            #expect(batcher.usage.items == callers && batcher.usage.batches < callers / 4, "\(batcher.usage)")
            #expect(try await batcher.pipeline([]).isEmpty)
            try await redis.delete(key)
        }
    }

    @Test func anErrorReplyFailsOnlyItsOwnCommand() async throws {
        try await withBatcher { batcher, redis in
            let key = TestEnvironment.unique("batch:string")
            try await redis.set(key, "not a number")
            async let bad = batcher.send(RedisCommand("INCR", key))
            async let good = batcher.send(RedisCommand("ECHO", "fine"))
            do {
                _ = try await bad
                Issue.record("INCR of a string did not fail")
            } catch let error as RedisError {
                #expect(error.code == "ERR")
            }
            #expect(try await good.string == "fine")
            try await redis.delete(key)
        }
    }

    @Test func shutdownAnswersWhatWasQueuedAndRefusesWhatComesAfter() async throws {
        let server = try await PrivateRedis.start()
        // A long command timeout: the pipeline held by the frozen server must outlast however
        // long a busy machine takes to queue the rest; this test is about the drain.
        let redis = RedisClient(
            configuration: TestEnvironment.redisConfiguration(url: server.url, commandTimeout: .seconds(60)),
            logger: TestEnvironment.logger
        )
        let batcher = RedisBatcher(redis: redis, configuration: .init(flushers: 1))
        let group = ServiceGroup(services: [batcher], logger: TestEnvironment.logger)
        async let running: Void = group.run()
        try await redis.ping()
        // A frozen server holds the one flusher's pipeline in flight, so what follows stays
        // queued while shutdown begins.
        try await server.freeze()
        async let first = batcher.send(RedisCommand("ECHO", "first"))
        #expect(await eventually { batcher.usage.items == 1 })
        async let replies = withThrowingTaskGroup(of: String?.self) { tasks in
            for i in 0..<200 { tasks.addTask { try await batcher.send(RedisCommand("ECHO", "\(i)")).string } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(await eventually { batcher.usage.queued == 200 }, "\(batcher.usage)")
        await group.triggerGracefulShutdown()
        try await server.thaw()
        #expect(try await first.string == "first")
        #expect(try await Set(replies.compactMap { $0 }) == Set((0..<200).map(String.init)))
        try await running
        await #expect(throws: DependencyUnavailableError.self) { try await batcher.send(RedisCommand("PING")) }
        await redis.shutdown()
        try await server.stop()
    }

    /// Rate-limit checks through a batcher: as exact as one call each (the limit's emission
    /// interval is six seconds, so a burst spread out by a busy machine changes nothing), in
    /// fewer round trips, and still working after Redis forgot its scripts.
    @Test func batchedRateLimitChecksAdmitExactlyTheLimit() async throws {
        // Its own Redis: the test flushes the scripts.
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        try await withBatcher(redisURL: server.url) { batcher, redis in
            let limiter = RateLimiter(
                redis: redis,
                batcher: batcher,
                keyPrefix: "test:ratelimit:",
                clock: ContinuousClock(),
                logger: TestEnvironment.logger
            )
            let policy = RateLimitPolicy(name: "batched", limit: 10, period: .seconds(60))
            let key = TestEnvironment.unique("client")
            let decisions = await limiter.burst(100, of: key, policy: policy)
            #expect(decisions.allSatisfy { !$0.local })
            #expect(decisions.filter(\.allowed).count == 10)
            #expect(Set(decisions.filter(\.allowed).map(\.remaining)) == Set(0..<10))
            let usage = batcher.usage
            #expect(usage.items >= 100 && usage.batches < usage.items, "\(usage)")

            _ = try await redis.send("SCRIPT", "FLUSH")
            let afterFlush = await limiter.check(TestEnvironment.unique("client"), policy: policy)
            #expect(afterFlush.allowed && !afterFlush.local && afterFlush.remaining == 9)
        }
    }
}
