import Foundation
import Shared

/// Appends produced events to the partitioned log.
///
/// One script per event: it answers a repeated `event_id` with the first post's id (within
/// the dedupe window, a no-op), else adds the event to its user's partition with `MAXLEN ~`
/// and trims entries older than the retention (`MINID ~`). Concurrent single posts share
/// pipelines through a ``RedisBatcher``; a batch goes as one pipeline, in order.
struct EventLog: Sendable {
    struct Configuration: Sendable {
        /// `STREAM_PARTITIONS` (8): the log's partitions, the unit workers share.
        var partitions: Int
        /// `STREAM_LOG_MAX_LENGTH` (1,000,000): entries kept per partition, at least.
        var maxLength: Int
        /// `STREAM_LOG_RETENTION_MS` (24 h): entries older than this are trimmed.
        var retention: Duration
        /// `STREAM_DEDUPE_WINDOW_MS` (24 h): how long an `event_id` is remembered.
        var dedupeWindow: Duration
    }

    /// Where an event went.
    struct Appended: Sendable, Equatable {
        var id: String
        var partition: Int
        /// A repeated `event_id`: nothing was added, `id` is the first post's.
        var duplicate: Bool
    }

    let redis: RedisClient
    let batcher: RedisBatcher
    let keys: StreamKeys
    let configuration: Configuration

    func append(_ event: StreamEvent) async throws -> Appended {
        let (command, partition) = command(event)
        let reply = try await batcher.run(command, of: Self.script)
        return try Self.appended(reply, partition)
    }

    /// Many events in one pipeline, in order.
    func append(_ events: [StreamEvent]) async throws -> [Appended] {
        let commands = events.map(command)
        let replies = try await redis.pipeline(commands.map(\.0), loading: Self.script)
        return try zip(replies, commands).map { reply, command in
            if case .error(let message) = reply { throw RedisError(message: message) }
            return try Self.appended(reply, command.1)
        }
    }

    private func command(_ event: StreamEvent) -> (RedisCommand, Int) {
        let partition = keys.partition(of: event.userID)
        var command = RedisCommand(reservingCapacity: 512, arguments: 9)
        command.append("EVALSHA")
        command.append(Self.script.sha1)
        command.append(event.eventID == nil ? 1 : 2)
        command.append(keys.log(partition))
        if let id = event.eventID { command.append(keys.seen(partition, eventID: id)) }
        command.append(configuration.maxLength)
        command.append(Int(configuration.retention.millisecondsRoundedUp))
        command.append(Int(max(1, configuration.dedupeWindow.millisecondsRoundedUp)))
        command.append(event.jsonText)
        return (command, partition)
    }

    private static func appended(_ reply: RedisReply, _ partition: Int) throws -> Appended {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else {
            throw RedisError(message: "unexpected reply to the produce script")
        }
        return Appended(id: id, partition: partition, duplicate: parts[1].int == 1)
    }

    /// KEYS: log, [seen]. ARGV: maxlen, retention ms, dedupe window ms, event JSON.
    static let script = RedisScript(
        """
        if KEYS[2] then
          local previous = redis.call('GET', KEYS[2])
          if previous then return {previous, 1} end
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[4])
        local now = redis.call('TIME')
        local floor = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2])
        if floor > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', floor) end
        if KEYS[2] then redis.call('SET', KEYS[2], id, 'PX', ARGV[3]) end
        return {id, 0}
        """
    )
}
