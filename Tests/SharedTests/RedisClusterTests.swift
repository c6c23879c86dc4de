import Foundation
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
