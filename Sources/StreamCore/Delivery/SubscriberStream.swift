import Shared

/// Reads a subscriber's delivery stream (`stream:{s:<id>}:out`): where it ends, and pages of
/// entries after a position.
struct SubscriberStream: Sendable {
    let redis: RedisClient
    /// Bounds the reads in flight (a share of the Redis pool).
    let gate: ReadGate

    init(redis: RedisClient) {
        self.redis = redis
        gate = ReadGate(width: max(1, redis.configuration.poolSize / 2))
    }

    /// The newest position ever added; zero when the stream does not exist (never written,
    /// or expired whole).
    func last(_ subscriberID: String) async throws -> RedisStreamID {
        let reply: RedisReply
        do {
            reply = try await gate.run { try await redis.send("XINFO", "STREAM", StreamKeys.out(subscriberID)) }
        } catch let error as RedisError where error.message.contains("no such key") {
            return .zero
        }
        return RedisStreamID(reply.pairs["last-generated-id"]?.string ?? "")
    }

    /// Up to `count` entries after `position`, oldest first.
    func entries(_ subscriberID: String, after position: RedisStreamID, count: Int) async throws -> [LiveMessage] {
        try await gate.run { try await redis.xrange(StreamKeys.out(subscriberID), after: position.description, count: count) }
            .map(LiveMessage.init(entry:))
    }
}
