import NIOConcurrencyHelpers
import Shared
import Testing

@testable import StreamCore

/// A connection's queue: buffering while it recovers, a bound while live, and the slow
/// client cut off without waiting.
@Suite("Delivery connection")
struct DeliveryConnectionTests {
    static func message(_ n: Int) -> LiveMessage {
        LiveMessage(published: Array("1-\(n - 1) 1-\(n) 5-\(n) {\"n\":\(n)}".utf8))!
    }

    @Test func aPublishedMessageCarriesItsPositions() throws {
        let message = try #require(LiveMessage(published: Array("0-0 17-3 9-1 {\"a\": \"b c\"}".utf8)))
        #expect(message.previous == .zero && message.id == RedisStreamID(milliseconds: 17, sequence: 3))
        #expect(message.source == RedisStreamID(milliseconds: 9, sequence: 1) && message.event == #"{"a": "b c"}"#)
        #expect(LiveMessage(published: Array("0-0 x 9-1 {}".utf8)) == nil)
        #expect(LiveMessage(published: Array("0-0 1-1".utf8)) == nil)
        for bad in ["", "-", "1-", "-1", "1-2-3", "a-1", "18446744073709551616-0", "1 -2"] {
            #expect(RedisStreamID(parsing: bad) == nil, "\(bad)")
        }
        #expect(RedisStreamID(parsing: "18446744073709551615-7") == RedisStreamID(milliseconds: .max, sequence: 7))
        #expect(RedisStreamID(parsing: "42") == RedisStreamID(milliseconds: 42, sequence: 0))
    }

    @Test func recoveringBuffersAndGoingLiveHandsTheBufferOver() {
        let connection = DeliveryConnection(subscriberID: "s", transport: .webSocket, queueLimit: 3) {}
        for n in 1...3 { connection.offer(Self.message(n)) }
        #expect(connection.queued == 0, "nothing is queued while recovering")
        #expect(connection.goLive()?.map(\.id.sequence) == [1, 2, 3])
        connection.offer(Self.message(4))
        #expect(connection.queued == 1)
    }

    @Test func aBufferOverflowWhileRecoveringMeansReadAgain() {
        let connection = DeliveryConnection(subscriberID: "s", transport: .webSocket, queueLimit: 2) {}
        for n in 1...3 { connection.offer(Self.message(n)) }
        #expect(connection.goLive() == nil, "more arrived than the buffer holds: the stream is read again")
        #expect(connection.goLive()?.isEmpty == true)
        #expect(connection.closeReason == nil)
    }

    @Test func aFullQueueClosesTheConnectionAsSlowAtOnce() async {
        let cut = NIOLockedValueBox(0)
        let connection = DeliveryConnection(subscriberID: "s", transport: .webSocket, queueLimit: 2) { cut.withLockedValue { $0 += 1 } }
        _ = connection.goLive()
        for n in 1...5 { connection.offer(Self.message(n)) }
        #expect(connection.closeReason == .tooSlow && cut.withLockedValue { $0 } == 1)
        var received: [UInt64] = []
        for await signal in connection.signals {
            if case .event(let message) = signal { received.append(message.id.sequence) }
        }
        #expect(received == [1, 2], "what was queued before the limit, then the end")
    }
}
