import Foundation
import Shared
import TestSupport
import Testing

/// Values no command text could carry safely: every one must come back byte for byte.
let hostileStrings = [
    "'; DROP TABLE x; --",
    "quote \" and ' and `backtick`",
    "line one\r\nline two\nSET injected 1\r\n",
    "ünïcödé ✓ 日本語 🚀",
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    "",
]
let hostileBytes: [UInt8] = [0, 1, 2, 0, 255, 13, 10, 0x27, 0x22, 0]

@Suite("Redis client", .teardown)
struct RedisClientTests {
    let logger = TestEnvironment.logger

    @Test func hostileValuesRoundTripUnchanged() async throws {
        try await withRedis { redis in
            let key = TestEnvironment.unique("restrict:hostile")
            for value in hostileStrings {
                try await redis.set(key, value)
                #expect(try await redis.get(key) == Array(value.utf8))
                // The value as a key and as a hash field too: argv keeps them apart.
                try await redis.send("HSET", key + ":h", value, value)
                #expect(try await redis.send("HGET", key + ":h", value).string == value)
            }
            try await redis.set(key, hostileBytes)
            #expect(try await redis.get(key) == hostileBytes)
            // Nothing was executed as a command: the injected SET never ran.
            #expect(try await redis.get("injected") == nil)
            try await redis.delete(key, key + ":h")
        }
    }

    @Test func replyTypes() async throws {
        try await withRedis { redis in
            let key = TestEnvironment.unique("test:types")
            #expect(try await redis.send("PING") == .status("PONG"))
            #expect(try await redis.send("INCRBY", key, 5) == .integer(5))
            #expect(try await redis.send("GET", key + ":missing") == .null)
            try await redis.send("RPUSH", key + ":l", "a", "b")
            #expect(try await redis.send("LRANGE", key + ":l", 0, -1) == .array([.string(Array("a".utf8)), .string(Array("b".utf8))]))
            await #expect(throws: RedisError.self) { try await redis.send("LPUSH", key, "x") }
            await #expect(throws: RedisError.self) { try await redis.send("NOSUCHCOMMAND") }
            try await redis.delete(key, key + ":l")
        }
    }

    @Test func pipelineAnswersInOrderWithErrorsInPlace() async throws {
        try await withRedis { redis in
            let key = TestEnvironment.unique("test:pipe")
            var commands = (0..<16).map { RedisCommand("INCRBY", key, $0) }
            commands.insert(RedisCommand("HGET", key, "f"), at: 3)
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 17)
            #expect(replies[0] == .integer(0))
            #expect(replies[2] == .integer(3))
            if case .error(let message) = replies[3] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("expected an error") }
            #expect(replies[16] == .integer((0..<16).reduce(0, +)))
            try await redis.delete(key)
        }
    }

    @Test func scriptsReloadAfterScriptFlush() async throws {
        try await withRedis { redis in
            let script = RedisScript("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
            let key = TestEnvironment.unique("test:script")
            let first = try await redis.run(script, keys: [key], arguments: ["a'b\"c"])
            #expect(first.array?.map(\.string) == [key, "a'b\"c", "1"])
            try await redis.send("SCRIPT", "FLUSH")
            let second = try await redis.run(script, keys: [key], arguments: ["x"])
            #expect(second.array?.last == .integer(2))
            try await redis.delete(key)
        }
    }

    @Test func streamHelpers() async throws {
        try await withRedis { redis in
            let stream = TestEnvironment.unique("test:stream")
            try await redis.xgroupCreate(stream, group: "g")
            try await redis.xgroupCreate(stream, group: "g")  // an existing group is fine
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try await redis.xadd(stream, maxLength: 1000, fields: [("n", index), ("v", hostileBytes)]))
            }
            let read = try await redis.xreadgroup(group: "g", consumer: "c1", streams: [(stream, ">")], count: 3, block: .milliseconds(10))
            #expect(read.map(\.id) == Array(ids.prefix(3)))
            #expect(read.first?.fields["v"] == hostileBytes)
            #expect(read.map { $0.string("n") } == ["0", "1", "2"])
            #expect(try await redis.xack(stream, group: "g", ids: [ids[0]]) == 1)
            let pending = try await redis.xpending(stream, group: "g")
            #expect(pending.map(\.id) == [ids[1], ids[2]])
            #expect(pending.allSatisfy { $0.consumer == "c1" && $0.deliveries == 1 })
            // A crashed consumer's entries are taken over by another.
            let claimed = try await redis.xautoclaim(stream, group: "g", consumer: "c2", minIdle: .zero)
            #expect(claimed.entries.map(\.id) == [ids[1], ids[2]])
            #expect(try await redis.xpending(stream, group: "g").allSatisfy { $0.consumer == "c2" && $0.deliveries == 2 })
            // Nothing new for c1 beyond the last two, and an empty read with BLOCK returns empty.
            let rest = try await redis.xreadgroup(group: "g", consumer: "c1", streams: [(stream, ">")], count: 10, block: .milliseconds(10))
            #expect(rest.map(\.id) == Array(ids.suffix(2)))
            let none = try await redis.xreadgroup(group: "g", consumer: "c1", streams: [(stream, ">")], count: 10, block: .milliseconds(10))
            #expect(none.isEmpty)
            try await redis.delete(stream)
        }
    }

    /// Idle connections are checked before reuse: after a restart the pool's connections are
    /// all dead, and not one call fails for it.
    @Test func aServerRestartCostsNoFailedCall() async throws {
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        try await withRedis(url: server.url) { redis in
            // Every pooled connection open (the pool has 8).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 { group.addTask { _ = try await redis.send("BLPOP", "never-pushed", "0.05") } }
                try await group.waitForAll()
            }
            #expect(redis.poolUsage.open == 8)
            try await server.stop()
            try await server.start()
            for index in 0..<20 {
                try await redis.set("k\(index)", "v")
                #expect(try await redis.get("k\(index)") == Array("v".utf8))
            }
        }
    }

    /// `REDIS_URL`'s `/db` selects that database on every pooled connection.
    @Test func theURLsDatabaseIsSelected() async throws {
        let key = TestEnvironment.unique("db-probe")
        try await withRedis(url: TestEnvironment.redisURL + "/3") { redis in
            try await redis.set(key, "in three")
            #expect(try await redis.send("CLIENT", "INFO").string?.contains(" db=3 ") == true)
        }
        try await withRedis { redis in
            let inZero = try await redis.get(key)
            #expect(inZero == nil, "the key went to database 0")
        }
        try await withRedis(url: TestEnvironment.redisURL + "/3") { redis in
            #expect(try await redis.get(key) == Array("in three".utf8))
            _ = try await redis.delete(key)
        }
    }

    /// The suite's Redis admits only the ACL user `suite` with its password (`scripts/lib.sh`),
    /// as the run command's does: no password, a wrong one, or the default user get nothing.
    @Test func onlyTheACLUserWithItsPasswordGetsIn() async throws {
        let password = try #require(TestEnvironment.redisPassword, "scripts/test.sh starts Redis with an ACL user")
        let port = try #require(RedisEndpoint(url: TestEnvironment.redisURL)?.port)
        let refused = [
            ("redis://127.0.0.1:\(port)", "NOAUTH"),
            ("redis://suite:x\(password)@127.0.0.1:\(port)", "WRONGPASS"),
            ("redis://default:\(password)@127.0.0.1:\(port)", "WRONGPASS"),
            ("redis://:\(password)@127.0.0.1:\(port)", "WRONGPASS"),
        ]
        for (url, code) in refused {
            try await withRedis(url: url) { redis in
                let error = await #expect(throws: (any Error).self) { try await redis.ping() }
                #expect(String(describing: error).contains(code), "\(url.replacingOccurrences(of: password, with: "…"))")
            }
        }
        try await withRedis { redis in
            let user = try await redis.send("ACL", "WHOAMI").string
            #expect(user == "suite")
        }
    }

    @Test func subscriberDeliversAndResubscribesAfterRestart() async throws {
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        let config = TestEnvironment.redisConfiguration(url: server.url)
        let subscriber = RedisSubscriber(
            configuration: config,
            channels: ["plain"],
            patterns: ["health.*"],
            idlePing: .milliseconds(300),
            logger: logger
        )
        let runner = Task { try await subscriber.run() }
        defer { runner.cancel() }
        let events = EventCollector(subscriber.events)
        #expect(await events.waitFor { $0 == .subscribed } != nil)

        try await withRedis(url: server.url) { redis in
            try await redis.publish("health.profile", hostileBytes)
            try await redis.publish("plain", "hello")
            #expect(await eventually { events.all.count >= 3 })
            #expect(
                Array(events.all.dropFirst().prefix(2)) == [
                    .message(channel: "health.profile", pattern: "health.*", payload: hostileBytes),
                    .message(channel: "plain", pattern: nil, payload: Array("hello".utf8)),
                ]
            )

            try await server.stop()
            #expect(
                await events.waitFor {
                    if case .disconnected = $0 { return true }
                    return false
                } != nil
            )
            let before = events.all.count
            try await server.start()
            #expect(await events.waitForMore(than: before).first == .subscribed)
            #expect(await eventually { try await redis.publish("health.feed", "again") == 1 })
            #expect(await events.waitFor { $0 == .message(channel: "health.feed", pattern: "health.*", payload: Array("again".utf8)) } != nil)
        }
    }
}

/// Fail-fast and the command timeout are bounds on time (< 500 ms per call while Redis is down,
/// < 2 s for a frozen one), so they run in the serial pass (`Exclusive…`), where a loaded
/// machine does not stretch them.
@Suite("Exclusive Redis fail-fast", .teardown)
struct ExclusiveRedisRecoveryTests {
    @Test func aFrozenRedisTimesOutInsteadOfHanging() async throws {
        let server = try await PrivateRedis.start()
        afterTest {
            try? await server.thaw()
            try? await server.stop()
        }
        try await withRedis(url: server.url, commandTimeout: .milliseconds(300)) { redis in
            try await redis.ping()
            try await server.freeze()
            let start = ContinuousClock.now
            await #expect(throws: DependencyUnavailableError.self) { try await redis.ping() }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2))
            try await server.thaw()
            #expect(
                await eventually {
                    try await redis.ping()
                    return true
                }
            )
        }
    }

    @Test func recoversAfterRedisRestartAndFailsFastWhileDown() async throws {
        let server = try await PrivateRedis.start()
        afterTest { try? await server.stop() }
        try await withRedis(url: server.url) { redis in
            try await redis.set("k", "before")
            try await server.stop()

            // Every call while Redis is down fails with a clear error, quickly, none hangs.
            for _ in 0..<20 {
                let start = ContinuousClock.now
                await #expect(throws: DependencyUnavailableError.self) { try await redis.get("k") }
                #expect(ContinuousClock.now - start < .milliseconds(500))
            }

            try await server.start()
            // The same client recovers by itself (no data: the private server has no persistence).
            #expect(
                await eventually(timeout: .seconds(5)) {
                    try await redis.set("k", "after")
                    return try await redis.get("k") == Array("after".utf8)
                }
            )
            // All pooled connections recover, not just one: many concurrent calls succeed.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<32 { group.addTask { try await redis.set("k\(index)", index) } }
                try await group.waitForAll()
            }
        }
    }
}
