import Shared

/// Which partitions a consumer reads: the live consumers, each seen within ``timeout`` in a
/// sorted set that every consumer refreshes (`restrictions:consumers`), split the partitions
/// between them by their place in the sorted list of names.
///
/// The split only saves work, it is not what makes applying correct: a user's events go to
/// one consumer, so none waits for a predecessor in another's hands and each partition's
/// reads go to one consumer. While two consumers see different lists (a second after one
/// joins or leaves) a partition may be read by both or by neither for that long; the per-user
/// numbering keeps exactly-once either way, and a consumer that died leaves the list after
/// ``timeout``, when its partitions are taken up and its pending entries claimed.
struct ConsumerMembership: Sendable {
    let redis: RedisClient
    let key: String
    let name: String
    let timeout: Duration

    /// Refreshes this consumer's entry and returns the live consumers' names, sorted. Scores
    /// are the server's time (`TIME`), so clocks of the consumers' hosts do not matter.
    func refresh() async throws -> [String] {
        let reply = try await redis.run(Self.script, keys: [key], arguments: [name, Int(timeout.seconds * 1000)])
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Leaves the list at shutdown, so the others take up the partitions at their next round.
    func leave() async {
        _ = try? await redis.send("ZREM", key, name)
    }

    /// The partitions (of `count`) that the consumer `name` reads among `members`: every
    /// `members.count`-th from its place. With more consumers than partitions the extra ones
    /// share a partition with another (the group splits its entries); one partition is read by
    /// every consumer. Not listed yet (its first refresh failed): all of them.
    static func partitions(count: Int, members: [String], name: String) -> [Int] {
        guard let place = members.firstIndex(of: name) else { return Array(0..<count) }
        let share = Array(stride(from: place, to: count, by: members.count))
        return share.isEmpty ? [place % count] : share
    }

    /// KEYS: the set. ARGV: name, timeout ms. Returns the live names.
    static let script = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        return redis.call('ZRANGE', KEYS[1], 0, -1)
        """
    )
}
