import Testing

@testable import Shared

/// Which arguments are keys, and the slot map's parsing: pure logic, no server.
@Suite("Redis Cluster routing")
struct RedisClusterRoutingTests {
    @Test(arguments: [
        (RedisCommand("GET", "a"), [1]),
        (RedisCommand("set", "a", "v", "PX", 10), [1]),
        (RedisCommand("DEL", "a", "b", "c"), [1, 2, 3]),
        (RedisCommand("MSET", "a", 1, "b", 2), [1, 3]),
        (RedisCommand("EVALSHA", "sha", 2, "k1", "k2", "arg"), [3, 4]),
        (RedisCommand("EVALSHA", "sha", 0, "arg"), []),
        (RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "BLOCK", 5, "STREAMS", "s1", "s2", ">", ">"), [9, 10]),
        (RedisCommand("XREAD", "COUNT", 1, "streams", "s", "0"), [4]),
        (RedisCommand("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"), [2]),
        (RedisCommand("XINFO", "STREAM", "s"), [2]),
        (RedisCommand("PUBLISH", "channel", "m"), []),
        (RedisCommand("SCRIPT", "LOAD", "return 1"), []),
        (RedisCommand("PING"), []),
        (RedisCommand("WAIT", 1, 100), []),
    ])
    func keyPositions(command: RedisCommand, expected: [Int]) {
        #expect(command.keyIndices == expected, "\(command.name)")
    }

    @Test func routesBySlotAndRefusesSpans() throws {
        #expect(try RedisCommand("GET", "foo").route() == .slot(12182))
        #expect(try RedisCommand("MGET", "{foo}a", "{foo}b").route() == .slot(12182))
        #expect(try RedisCommand("PING").route() == .anyNode)
        #expect(throws: RedisCrossSlotError(command: "MGET", keys: ["foo", "bar"])) { try RedisCommand("MGET", "foo", "bar").route() }
    }

    @Test func slotMapFromClusterSlots() throws {
        func node(_ host: String, _ port: Int) -> RedisReply { .array([.string(Array(host.utf8)), .integer(port), .string([])]) }
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5460), node("10.0.0.1", 7000), node("10.0.0.4", 7003)]),
            .array([.integer(5461), .integer(10922), node("", 7001)]),
            .array([.integer(10923), .integer(16383), node("10.0.0.3", 7002)]),
        ])
        var map = try RedisSlotMap(clusterSlots: reply, asked: .init(host: "10.0.0.9", port: 7001))
        #expect(map.master(of: 0) == .init(host: "10.0.0.1", port: 7000))
        #expect(map.master(of: 5460) == .init(host: "10.0.0.1", port: 7000))
        // An empty host is the address the asked node was reached on.
        #expect(map.master(of: 5461) == .init(host: "10.0.0.9", port: 7001))
        #expect(map.master(of: 16383) == .init(host: "10.0.0.3", port: 7002))
        #expect(map.masters.count == 3)
        #expect(map.nodes.count == 4)
        map.move(5460, to: .init(host: "10.0.0.3", port: 7002))
        #expect(map.master(of: 5460) == .init(host: "10.0.0.3", port: 7002))
        #expect(map.master(of: 5459) == .init(host: "10.0.0.1", port: 7000))
        #expect(throws: RedisError.self) {
            try RedisSlotMap(clusterSlots: .array([.array([.integer(9), .integer(3)])]), asked: .init(host: "h", port: 1))
        }
        #expect(throws: RedisError.self) {
            try RedisSlotMap(clusterSlots: .array([.array([.integer(0), .integer(16384), node("h", 1)])]), asked: .init(host: "h", port: 1))
        }
    }

    @Test func clusterNodesVariable() {
        let credentials = RedisEndpoint(username: "suite", password: "secret")
        let nodes = RedisClient.Configuration.clusterNodes("127.0.0.1:7000, 127.0.0.1:7001,,[::1]:7002", credentials: credentials)
        #expect(nodes?.map(\.port) == [7000, 7001, 7002])
        #expect(nodes?.allSatisfy { $0.username == "suite" && $0.password == "secret" } == true)
        #expect(RedisClient.Configuration.clusterNodes("127.0.0.1", credentials: credentials) == nil)
        #expect(RedisClient.Configuration.clusterNodes("host:99999", credentials: credentials) == nil)
        #expect(RedisClient.Configuration.clusterNodes("", credentials: credentials) == [])
    }
}
