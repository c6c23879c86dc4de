import Foundation
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

@Suite("Consumer membership")
struct ConsumerMembershipTests {
    @Test func theLiveConsumersSplitThePartitions() {
        func share(_ count: Int, _ members: [String], _ name: String) -> [Int] {
            ConsumerMembership.partitions(count: count, members: members, name: name)
        }
        let three = ["a", "b", "c"]
        #expect(share(16, three, "a") == [0, 3, 6, 9, 12, 15])
        #expect(share(16, three, "b") == [1, 4, 7, 10, 13])
        #expect(share(16, three, "c") == [2, 5, 8, 11, 14])
        #expect(Set(three.flatMap { share(16, three, $0) }) == Set(0..<16))
        // One partition: everyone reads it; more consumers than partitions: the extra ones
        // double up; not listed: everything.
        #expect(three.map { share(1, three, $0) } == [[0], [0], [0]])
        #expect(share(2, three, "c") == [0])
        #expect(share(16, three, "z") == Array(0..<16))
    }

    /// On the run's Redis (a cluster in a cluster run): members join, are listed sorted, and
    /// leave by saying so or by falling silent past the timeout.
    @Test func membersJoinLeaveAndTimeOut() async throws {
        try await withRedis { redis in
            let key = TestEnvironment.unique("restrictions:consumers")
            func member(_ name: String, timeout: Duration = .seconds(30)) -> ConsumerMembership {
                ConsumerMembership(redis: redis, key: key, name: name, timeout: timeout)
            }
            #expect(try await member("b").refresh() == ["b"])
            #expect(try await member("a").refresh() == ["a", "b"])
            await member("b").leave()
            #expect(try await member("a").refresh() == ["a"])
            _ = try await member("c").refresh()
            // "c" is not heard again: gone once a refresh comes after its 200 ms.
            #expect(await eventually { try await member("a", timeout: .milliseconds(200)).refresh() == ["a"] })
        }
    }
}
