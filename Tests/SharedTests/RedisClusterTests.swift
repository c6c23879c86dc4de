import Foundation
import NIOConcurrencyHelpers
import Shared
import TestSupport
import Testing

/// Against a real local Redis Cluster (three masters, three replicas) the test command's
/// infrastructure starts. Exclusive: six more servers and a 3,000-command pipeline are load the
/// parallel pass's timing-bound tests do not need beside them.
@Suite("Exclusive Redis Cluster", .teardown)
struct ExclusiveRedisClusterTests {
    /// Keys of every shape: plain, with a hash tag, with an empty or unclosed brace, several
    /// braces, binary bytes; each one's slot as the cluster itself computes it.
    static func keys() -> [[UInt8]] {
        var keys: [[UInt8]] = ["", "{}", "{", "}", "{}x", "x{}", "{a", "a}", "a{b}c", "a{}{b}", "{{a}}", "user:{42}:flags", "{user:42}"]
            .map { Array($0.utf8) }
        var generator = SystemRandomNumberGenerator()
        for index in 0..<3000 {
            let length = Int.random(in: 1...40, using: &generator)
            var key = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if index % 3 == 0 {
                key = Array("restrict:{u\(index)}:metrics".utf8)
            } else if index % 3 == 1 {
                key = key.map { 0x21 + $0 % 94 }  // printable, braces included at random
            }
            keys.append(key)
        }
        return keys
    }

    @Test func slotsAreTheClustersOwn() async throws {
        let cluster = try await PrivateRedisCluster.start()
        afterTest { try? await cluster.stop() }
        try await withRedis(url: cluster.urls[0]) { redis in
            let info = try await redis.send("CLUSTER", "INFO").string ?? ""
            #expect(info.contains("cluster_state:ok"), "\(info)")
            #expect(info.contains("cluster_size:3"), "\(info)")
            let keys = Self.keys()
            let replies = try await redis.pipeline(keys.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
            let mismatched = zip(keys, replies).filter { RedisKeySlot.slot(of: $0) != $1.int }
            #expect(mismatched.isEmpty, "\(mismatched.prefix(5).map { (String(decoding: $0.0, as: UTF8.self), $0.1.int) })")
            #expect(replies.count == keys.count)
        }
    }

    @Test func hashTagsShareASlot() {
        #expect(RedisKeySlot.slot(of: "user:{42}:flags") == RedisKeySlot.slot(of: "user:{42}:restrictions"))
        #expect(RedisKeySlot.slot(of: "{42}") == RedisKeySlot.slot(of: "42"))
        // The reference values of the cluster specification.
        #expect(RedisKeySlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(RedisKeySlot.slot(of: "foo") == 12182)
    }
}

/// The cluster client against a real cluster: routing, pipelines split by node, scripts, cross-
/// slot refusal, a live reshard and a master's failover under traffic.
@Suite("Exclusive Redis Cluster client", .teardown)
struct ExclusiveRedisClusterClientTests {
    /// A started cluster and a cluster client seeded with all its nodes, both torn down after the test.
    func start() async throws -> (PrivateRedisCluster, RedisClient) {
        let cluster = try await PrivateRedisCluster.start()
        let redis = RedisClient(configuration: cluster.configuration, logger: TestEnvironment.logger)
        afterTest {
            await redis.shutdown()
            try? await cluster.stop()
        }
        return (cluster, redis)
    }

    /// The keys each master holds, read from the master itself.
    func keysPerMaster(_ cluster: PrivateRedisCluster) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for node in try await cluster.nodes() where node.isMaster {
            counts[node.port] = Int(try await cluster.cli(["-p", String(node.port), "dbsize"]).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return counts
    }

    @Test func singlesAndPipelinesReachTheirSlotsMaster() async throws {
        let (cluster, redis) = try await start()
        for index in 0..<300 { try await redis.set("single:\(index)", "value \(index)") }
        for index in 0..<300 { #expect(try await redis.get("single:\(index)") == Array("value \(index)".utf8)) }
        // One pipeline over every node: replies in the caller's order, an error reply in place.
        var commands = (0..<3000).map { index in
            index.isMultiple(of: 2) ? RedisCommand("SET", "piped:\(index)", index) : RedisCommand("INCRBY", "piped:\(index)", index)
        }
        commands.insert(RedisCommand("PING"), at: 17)
        commands.insert(RedisCommand("HGET", "single:7", "field"), at: 1234)
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == commands.count)
        #expect(replies[17] == .status("PONG"))
        #expect(replies[1234].string == nil && "\(replies[1234])".contains("WRONGTYPE"))
        let ordered = replies.enumerated().filter { $0.offset != 17 && $0.offset != 1234 }.map(\.element)
        for (index, reply) in ordered.enumerated() {
            #expect(reply == (index.isMultiple(of: 2) ? .status("OK") : .integer(index)), "command \(index)")
        }
        let counts = try await keysPerMaster(cluster)
        #expect(counts.count == 3)
        #expect(counts.values.allSatisfy { $0 > 800 }, "\(counts)")
        #expect(counts.values.reduce(0, +) == 3300)
        #expect(redis.clusterRedirects?.moved == 0, "the map routed every command")
    }

    @Test func multiKeyCallsAcrossSlotsAreRefusedNamingTheKeys() async throws {
        let (_, redis) = try await start()
        #expect(RedisKeySlot.slot(of: "alpha") != RedisKeySlot.slot(of: "beta"))
        await #expect(throws: RedisCrossSlotError(command: "DEL", keys: ["alpha", "beta"])) {
            try await redis.send("DEL", "alpha", "beta")
        }
        let error = await #expect(throws: RedisCrossSlotError.self) { try await redis.send("MSET", "alpha", 1, "beta", 2) }
        #expect(error?.description.contains("alpha (slot \(RedisKeySlot.slot(of: "alpha")))") == true)
        let script = RedisScript("return redis.call('SET', KEYS[1], ARGV[1])")
        await #expect(throws: RedisCrossSlotError.self) { _ = try await redis.run(script, keys: ["alpha", "beta"], arguments: [1]) }
        // A pipeline holding one such call is refused whole: its other commands were not sent.
        await #expect(throws: RedisCrossSlotError.self) {
            try await redis.pipeline([RedisCommand("SET", "gamma", 1), RedisCommand("MGET", "alpha", "beta")])
        }
        #expect(try await redis.get("gamma") == nil)
        // One hash tag puts them in one slot, and the cluster takes the call.
        try await redis.send("MSET", "{user:7}:alpha", 1, "{user:7}:beta", 2)
        #expect(try await redis.send("MGET", "{user:7}:alpha", "{user:7}:beta") == .array([.string([49]), .string([50])]))
    }

    @Test func scriptsLoadOnEachNodeTheyRunOn() async throws {
        let (cluster, redis) = try await start()
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let flush = { for port in cluster.ports { try await cluster.cli(["-p", String(port), "script", "flush"]) } }
        try await flush()
        for index in 0..<60 { #expect(try await redis.run(script, keys: ["script:\(index)"], arguments: [index]) == .integer(index)) }
        try await flush()
        let calls = (0..<60).map { script.call(keys: ["script:\($0)"], arguments: [1]) }
        let replies = try await redis.pipeline(calls, loading: script)
        #expect(replies == (0..<60).map { .integer($0 + 1) })
        // Loaded everywhere the keys live, so plain calls find it now.
        #expect(try await redis.pipeline(calls) == (0..<60).map { .integer($0 + 2) })
    }

    @Test func aLiveReshardUnderTrafficCostsNoFailedCall() async throws {
        let (cluster, redis) = try await start()
        let masters = try await cluster.nodes().filter(\.isMaster)
        let (from, to) = (masters[0], masters[1])
        let keys = (0..<400).map { "reshard:\($0)" }
        let stop = ManagedFlag()
        // Writers: each owns a quarter of the keys and counts every INCR that was answered.
        let results = try await withThrowingTaskGroup(of: ([String: Int], [String]).self) { group in
            for writer in 0..<4 {
                let mine = keys.enumerated().filter { $0.offset % 4 == writer }.map(\.element)
                group.addTask {
                    var counts: [String: Int] = [:]
                    var errors: [String] = []
                    var round = 0
                    while !stop.isSet, errors.count < 100 {
                        round += 1
                        do {
                            if writer == 0 {
                                let replies = try await redis.pipeline(mine.map { RedisCommand("INCR", $0) })
                                for (key, reply) in zip(mine, replies) {
                                    if reply.int != nil { counts[key, default: 0] += 1 } else { errors.append("\(key): \(reply)") }
                                }
                            } else {
                                for key in mine {
                                    _ = try await redis.send("INCR", key)
                                    counts[key, default: 0] += 1
                                }
                            }
                        } catch {
                            errors.append("\(error)")
                        }
                    }
                    return (counts, errors)
                }
            }
            // The writers stop also when the reshard fails: the group waits for them before it throws.
            do {
                try await cluster.cli([
                    "--cluster", "reshard", "127.0.0.1:\(from.port)", "--cluster-from", from.id, "--cluster-to", to.id,
                    "--cluster-slots", "2000", "--cluster-yes",
                ])
            } catch {
                stop.set()
                throw error
            }
            stop.set()
            return try await group.reduce(into: ([String: Int](), [String]())) { total, part in
                total.0.merge(part.0, uniquingKeysWith: +)
                total.1 += part.1
            }
        }
        #expect(results.1.isEmpty, "\(results.1.prefix(5))")
        let redirects = try #require(redis.clusterRedirects)
        #expect(redirects.moved > 0, "slots moved under the writers: \(redirects)")
        // Every answered INCR is in the count, no more, no less.
        let stored = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
        for (key, reply) in zip(keys, stored) {
            #expect(reply.int == results.0[key], "\(key)")
        }
    }

    /// A slot caught halfway through a migration, set up by hand: the key already moved is
    /// answered `ASK` by its old node and read from the new one, a new key goes to the new one
    /// too, and once the slot is handed over the old node's `MOVED` updates the client's map.
    @Test func askAndMovedDuringOneSlotsMigration() async throws {
        let (cluster, redis) = try await start()
        let (moved, stays) = ("{ask}:moved", "{ask}:stays")
        let slot = RedisKeySlot.slot(of: moved)
        try await redis.set(moved, "moved value")
        try await redis.set(stays, "stays value")
        let masters = try await cluster.nodes().filter(\.isMaster)
        var owner: PrivateRedisCluster.Node?
        for master in masters where try await cluster.cli(["-p", String(master.port), "cluster", "countkeysinslot", String(slot)]).hasPrefix("2") {
            owner = master
        }
        let source = try #require(owner)
        let target = try #require(masters.first { $0 != source })
        try await cluster.cli(["-p", String(target.port), "cluster", "setslot", String(slot), "importing", source.id])
        try await cluster.cli(["-p", String(source.port), "cluster", "setslot", String(slot), "migrating", target.id])
        let auth = TestEnvironment.redisPassword.map { ["AUTH2", "suite", $0] } ?? []
        let migrated = try await cluster.cli(
            ["-p", String(source.port), "migrate", "127.0.0.1", String(target.port), "", "0", "5000"] + auth + ["KEYS", moved]
        )
        #expect(migrated.hasPrefix("OK"), "\(migrated)")

        #expect(try await redis.get(moved) == Array("moved value".utf8), "the old node answers ASK")
        #expect(try await redis.get(stays) == Array("stays value".utf8), "the old node still serves what it holds")
        try await redis.set("{ask}:new", "new value")
        let asked = try #require(redis.clusterRedirects).asked
        #expect(asked >= 2, "\(asked) ASK redirects followed")

        // The rest of the slot moves, and the slot is handed over, as `--cluster reshard` does it.
        let migratedRest = try await cluster.cli(
            ["-p", String(source.port), "migrate", "127.0.0.1", String(target.port), "", "0", "5000"] + auth + ["KEYS", stays]
        )
        #expect(migratedRest.hasPrefix("OK"), "\(migratedRest)")
        for node in [source, target] {
            try await cluster.cli(["-p", String(node.port), "cluster", "setslot", String(slot), "node", target.id])
        }
        let movedBefore = try #require(redis.clusterRedirects).moved
        for key in [moved, stays, "{ask}:new"] { #expect(try await redis.get(key) != nil, "\(key)") }
        #expect(try #require(redis.clusterRedirects).moved > movedBefore, "MOVED updated the map")
        #expect(try await redis.get(moved) == Array("moved value".utf8))
    }

    @Test func aKilledMasterIsFollowedToItsPromotedReplica() async throws {
        let (cluster, redis) = try await start()
        let master = try #require(try await cluster.nodes().first { $0.isMaster })
        let replica = try #require(try await cluster.nodes().first { $0.masterID == master.id })
        // Acknowledged means written and on the replica (`WAIT 1`): that is what survives a
        // master's crash; a write only the master held may be lost with it.
        let keys = (0..<300).map { "failover:\($0)" }
        var acknowledged = 0
        for key in keys {
            // WAIT has no key and counts its own connection's writes: in one pipeline with the
            // SET, it travels with it to the key's master.
            let replies = try await redis.pipeline([RedisCommand("SET", key, key), RedisCommand("WAIT", 1, 1000)])
            if (replies[1].int ?? 0) >= 1 { acknowledged += 1 }
        }
        #expect(acknowledged == keys.count, "every write reached its replica")
        try cluster.kill(port: master.port)
        let killedAt = ContinuousClock.now
        var slowestFailure = Duration.zero
        var failures = 0
        var unclear: [String] = []
        let recovered = await poll(timeout: .seconds(30), every: .milliseconds(50)) {
            let started = ContinuousClock.now
            do {
                let values = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
                return zip(keys, values).allSatisfy { $0.1.string == $0.0 }
            } catch {
                failures += 1
                slowestFailure = max(slowestFailure, ContinuousClock.now - started)
                if !(error is DependencyUnavailableError) { unclear.append("\(error)") }
                throw error
            }
        }
        #expect(recovered.held, "\(recovered.explanation)")
        let followedAfter = ContinuousClock.now - killedAt
        #expect(followedAfter < .seconds(15), "followed the failover after \(followedAfter)")
        #expect(unclear.isEmpty, "\(unclear.prefix(3))")
        #expect(slowestFailure < .seconds(2.5), "calls in between fail fast: slowest \(slowestFailure) of \(failures)")
        let promoted = try await cluster.nodes(askingPort: replica.port).first { $0.port == replica.port }
        #expect(promoted?.isMaster == true)
    }
}

/// A flag the writers of a test poll to stop.
final class ManagedFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    var isSet: Bool { value.withLockedValue { $0 } }
    func set() { value.withLockedValue { $0 = true } }
}
