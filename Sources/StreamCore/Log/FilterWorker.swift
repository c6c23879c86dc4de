import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Matches the log against every filter and routes each match into its subscriber's stream.
///
/// Workers share the partitions by lease: each holds at most its share (partitions divided
/// by the live workers), renews its leases every `renewInterval`, gives extra ones back when
/// more workers join, and takes free ones, resuming from the partition's checkpoint. One
/// partition has one worker at a time, so a user's events are matched in order. A worker
/// that dies stops renewing; after `leaseTTL` another takes its partitions and matches again
/// from their checkpoints. Routing is idempotent per subscriber and partition (the route
/// script keeps the last log id routed and skips anything not after it), so an event matched
/// twice is still delivered once, and a worker that lost its lease without knowing it can do
/// no harm.
final class FilterWorker: Service, Sendable {
    struct Configuration: Sendable {
        /// `STREAM_WORKER_BATCH` (500): log entries read per round.
        var batchSize = 500
        /// `STREAM_LEASE_MS` (5 s): how long a partition stays with a silent worker.
        var leaseTTL: Duration = .seconds(5)
        /// `STREAM_LEASE_RENEW_MS` (1 s).
        var renewInterval: Duration = .seconds(1)
        /// `STREAM_REPLAY_MAX_LENGTH` (10,000): events kept per subscriber, at least.
        var replayMaxLength = 10_000
        /// `STREAM_REPLAY_RETENTION_MS` (24 h): a subscriber's events older than this are
        /// trimmed, and an idle subscriber's stream expires after it.
        var replayRetention: Duration = .seconds(86_400)
    }

    let id: String
    let redis: RedisClient
    let store: FilterStore
    let keys: StreamKeys
    let configuration: Configuration
    let metrics: StreamMetrics
    let logger: Logger

    init(id: String, redis: RedisClient, store: FilterStore, keys: StreamKeys, configuration: Configuration, metrics: StreamMetrics, logger: Logger) {
        self.id = id
        self.redis = redis
        self.store = store
        self.keys = keys
        self.configuration = configuration
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "stream.worker"] = .string(id)
        self.logger = logger
    }

    /// The partitions held and where each one's reading stands.
    struct Holdings {
        var positions: [Int: String] = [:]
        var nextRenewal = ContinuousClock.now
        var failures = 0
    }

    func run() async throws {
        while !store.isLoaded {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        var holdings = Holdings()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if ContinuousClock.now >= holdings.nextRenewal {
                    try await renew(&holdings)
                    holdings.nextRenewal = ContinuousClock.now + configuration.renewInterval
                }
                if holdings.positions.isEmpty {
                    try? await Task.sleep(for: configuration.renewInterval)
                    continue
                }
                try await step(&holdings)
                holdings.failures = 0
            } catch {
                holdings.failures += 1
                metrics.redisFailures.increment()
                if holdings.failures == 1 || holdings.failures % 20 == 0 {
                    logger.warning("filter worker step failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: Backoff(initial: .milliseconds(50), maximum: .seconds(1)).delay(attempt: holdings.failures))
            }
        }
        await release(holdings)
    }

    /// Reads one batch from the held partitions and routes its matches.
    func step(_ holdings: inout Holdings) async throws {
        let partitions = holdings.positions.keys.sorted()
        let entries = try await redis.xread(
            streams: partitions.map { (keys.log($0), holdings.positions[$0]!) },
            count: configuration.batchSize,
            block: .milliseconds(500)
        )
        guard !entries.isEmpty else { return }
        metrics.eventsRead.increment(by: Int64(entries.count))
        let index = store.index
        for partition in partitions {
            let stream = keys.log(partition)
            let batch = entries.filter { $0.stream == stream }
            guard let lastID = batch.last?.id else { continue }
            try await route(batch, partition: partition, index: index)
            if try await checkpoint(partition, lastID) {
                holdings.positions[partition] = lastID
            } else {
                holdings.positions[partition] = nil
                logger.notice("partition lease lost", metadata: ["stream.partition": "\(partition)"])
            }
        }
    }

    /// Matches `batch` (one partition's, in order) and routes each subscriber's matches with
    /// one script call, all calls in one pipeline.
    private func route(_ batch: [RedisStreamEntry], partition: Int, index: FilterIndex) async throws {
        var matched: [String: [(String, [UInt8])]] = [:]
        var order: [String] = []
        var matchedEvents = 0
        for entry in batch {
            guard let bytes = entry.fields["e"], let json = try? JSONValue.parse(Data(bytes)), let event = StreamEvent(logged: json) else {
                logger.warning("unreadable log entry skipped", metadata: ["stream.entry": "\(entry.id)"])
                continue
            }
            var any = false
            index.forEachMatch(event) { filter in
                any = true
                if matched[filter.subscriberID] == nil { order.append(filter.subscriberID) }
                matched[filter.subscriberID, default: []].append((entry.id, bytes))
            }
            if any { matchedEvents += 1 }
        }
        metrics.eventsMatched.increment(by: Int64(matchedEvents))
        guard !order.isEmpty else { return }
        let field = "p\(partition)"
        let commands = order.map { subscriber in
            var command = RedisCommand(reservingCapacity: 256, arguments: 10 + 2 * matched[subscriber]!.count)
            command.append("EVALSHA")
            command.append(Self.routeScript.sha1)
            command.append(2)
            command.append(StreamKeys.out(subscriber))
            command.append(StreamKeys.cursor(subscriber))
            command.append(field)
            command.append(configuration.replayMaxLength)
            command.append(Int(configuration.replayRetention.millisecondsRoundedUp))
            command.append(StreamKeys.live(subscriber))
            for (source, event) in matched[subscriber]! {
                command.append(source)
                command.append(event)
            }
            return command
        }
        var routed = 0
        for reply in try await redis.pipeline(commands, loading: Self.routeScript) {
            if case .error(let message) = reply { throw RedisError(message: message) }
            routed += reply.int ?? 0
        }
        metrics.eventsRouted.increment(by: Int64(routed))
    }

    /// Records that the partition is done up to `id`, if the lease is still ours.
    private func checkpoint(_ partition: Int, _ id: String) async throws -> Bool {
        try await redis.run(Self.checkpointScript, keys: [keys.owner(partition), keys.checkpoint(partition)], arguments: [self.id, id]).int == 1
    }

    /// Heartbeat, then renew, give back or take partitions to hold this worker's share.
    func renew(_ holdings: inout Holdings) async throws {
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let ttl = Int(configuration.leaseTTL.millisecondsRoundedUp)
        let registry = try await redis.pipeline([
            RedisCommand("ZADD", StreamKeys.workers, now, id),
            RedisCommand("ZREMRANGEBYSCORE", StreamKeys.workers, "-inf", now - ttl),
            RedisCommand("ZCARD", StreamKeys.workers),
        ])
        let workers = max(1, registry[2].int ?? 1)
        let share = (keys.partitions + workers - 1) / workers
        for partition in holdings.positions.keys.sorted() {
            let renewed = try await redis.run(Self.renewScript, keys: [keys.owner(partition)], arguments: [id, ttl]).int == 1
            if !renewed {
                holdings.positions[partition] = nil
                logger.notice("partition lease lost", metadata: ["stream.partition": "\(partition)"])
            }
        }
        for partition in holdings.positions.keys.sorted().dropFirst(share) {
            try await redis.run(Self.releaseScript, keys: [keys.owner(partition)], arguments: [id])
            holdings.positions[partition] = nil
            logger.info("partition handed back", metadata: ["stream.partition": "\(partition)"])
        }
        guard holdings.positions.count < share else { return }
        let start = keys.partition(of: id)
        for offset in 0..<keys.partitions where holdings.positions.count < share {
            let partition = (start + offset) % keys.partitions
            guard holdings.positions[partition] == nil else { continue }
            let taken = try await redis.send("SET", keys.owner(partition), id, "NX", "PX", ttl)
            guard case .status = taken else { continue }
            let checkpoint = try await redis.get(keys.checkpoint(partition)).map { String(decoding: $0, as: UTF8.self) } ?? "0-0"
            holdings.positions[partition] = checkpoint
            logger.info("partition taken", metadata: ["stream.partition": "\(partition)", "stream.checkpoint": "\(checkpoint)"])
        }
    }

    /// On shutdown: give the partitions back at once, so others need not wait out the lease.
    private func release(_ holdings: Holdings) async {
        for partition in holdings.positions.keys {
            _ = try? await redis.run(Self.releaseScript, keys: [keys.owner(partition)], arguments: [id])
        }
        _ = try? await redis.send("ZREM", StreamKeys.workers, id)
        logger.info("filter worker stopped")
    }

    /// Where each held partition stands against its newest entry, for `/health`.
    static func lag(redis: RedisClient, keys: StreamKeys) async throws -> JSONValue {
        var commands: [RedisCommand] = []
        for partition in 0..<keys.partitions {
            commands.append(RedisCommand("XINFO", "STREAM", keys.log(partition)))
            commands.append(RedisCommand("GET", keys.checkpoint(partition)))
            commands.append(RedisCommand("GET", keys.owner(partition)))
        }
        let replies = try await redis.pipeline(commands)
        var result: [String: JSONValue] = [:]
        for partition in 0..<keys.partitions {
            let info = replies[3 * partition].pairs
            let last = RedisStreamID(info["last-generated-id"]?.string ?? "")
            let length = info["length"]?.int ?? 0
            let checkpoint = RedisStreamID(replies[3 * partition + 1].string ?? "")
            result["p\(partition)"] = [
                "length": .number(Double(length)),
                "last": .string(last.description),
                "checkpoint": .string(checkpoint.description),
                "lag_ms": .number(Double(last.milliseconds > checkpoint.milliseconds ? last.milliseconds - checkpoint.milliseconds : 0)),
                "owner": replies[3 * partition + 2].string.map(JSONValue.string) ?? .null,
            ]
        }
        return .object(result)
    }

    /// KEYS: out, cursor. ARGV: partition field, maxlen, retention ms, live channel, then
    /// (log id, event) pairs in log order. Routes each pair not after the partition's cursor,
    /// publishes `<previous> <id> <log id> <event>`, and returns how many it routed.
    static let routeScript = RedisScript(
        """
        local function parse(id)
          local dash = string.find(id, '-', 1, true)
          return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
        end
        local cursor = redis.call('HGET', KEYS[2], ARGV[1])
        local cms, cseq = -1, -1
        if cursor then cms, cseq = parse(cursor) end
        local last = redis.call('HGET', KEYS[2], 'last') or '0-0'
        local routed = 0
        for i = 5, #ARGV, 2 do
          local source = ARGV[i]
          local ms, seq = parse(source)
          if ms > cms or (ms == cms and seq > cseq) then
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 1], 'src', source, 'prev', last)
            redis.call('PUBLISH', ARGV[4], last .. ' ' .. id .. ' ' .. source .. ' ' .. ARGV[i + 1])
            last = id
            cursor = source
            cms, cseq = ms, seq
            routed = routed + 1
          end
        end
        if routed > 0 then
          redis.call('HSET', KEYS[2], ARGV[1], cursor, 'last', last)
          local now = redis.call('TIME')
          local floor = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3])
          if floor > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', floor) end
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          redis.call('PEXPIRE', KEYS[2], ARGV[3])
        end
        return routed
        """
    )

    /// KEYS: owner, checkpoint. ARGV: worker, id.
    static let checkpointScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """
    )

    /// KEYS: owner. ARGV: worker, ttl ms.
    static let renewScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """
    )

    /// KEYS: owner. ARGV: worker.
    static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 1
        """
    )
}
