import Logging
import ServiceLifecycle
import Shared

/// The consumer-group worker: reads every partition of the event log in batches and applies
/// each entry with ``EventApplier`` (which acknowledges it in the same script).
///
/// The live consumers split the partitions between them (``ConsumerMembership``), so each
/// user's events go to one consumer; the per-user numbering keeps them in order and applied
/// once whoever applies them, also while the split changes. On Redis Cluster the partitions'
/// reads go to their masters at once, so consumers add throughput as long as the masters
/// have room.
///
/// A consumer that dies leaves its entries pending; every `claimInterval` the live ones take
/// over entries idle longer than `claimIdle` (`XAUTOCLAIM`). An entry delivered more than
/// `maxDeliveries` times, or one that is not an event at all, goes to the dead-letter
/// stream. Every second it re-arms tripwires whose window has calmed down.
public final class EventConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        var group: String
        /// Stable across restarts to pick up its own pending entries at once; otherwise they
        /// wait for `claimIdle` and another consumer.
        var name: String
        var batchSize: Int
        var claimIdle: Duration
        var claimInterval: Duration
        var maxDeliveries: Int
        var rearmInterval: Duration

        public init(
            group: String = "restrictions",
            name: String,
            batchSize: Int = 256,
            claimIdle: Duration = .seconds(30),
            claimInterval: Duration = .seconds(1),
            maxDeliveries: Int = 5,
            rearmInterval: Duration = .seconds(1)
        ) {
            self.group = group
            self.name = name
            self.batchSize = batchSize
            self.claimIdle = claimIdle
            self.claimInterval = claimInterval
            self.maxDeliveries = maxDeliveries
            self.rearmInterval = rearmInterval
        }
    }

    let redis: RedisClient
    let applier: EventApplier
    let configuration: Configuration
    let time: WallTime
    let metrics: RestrictionMetrics
    let logger: Logger
    let membership: ConsumerMembership

    public init(redis: RedisClient, applier: EventApplier, configuration: Configuration, time: WallTime, metrics: RestrictionMetrics, logger: Logger)
    {
        self.redis = redis
        self.applier = applier
        self.configuration = configuration
        self.time = time
        self.metrics = metrics
        // Three rounds missed: gone.
        self.membership = ConsumerMembership(
            redis: redis,
            key: applier.keys.consumers,
            name: configuration.name,
            timeout: max(.seconds(3), configuration.claimInterval * 3)
        )
        var logger = logger
        logger[metadataKey: "restrictions.consumer"] = .string(configuration.name)
        self.logger = logger
    }

    private var streams: [String] { applier.keys.partitions.map(\.stream) }

    /// An entry of one partition's stream.
    struct EntryRef: Hashable {
        let stream: String
        let id: String
    }

    /// What one consumer carries between batches.
    struct State {
        /// Own pending entries are read first (from a previous life under the same name), by
        /// stream, from the id given; a stream leaves once it has no more.
        var ownPendingFrom: [String: String]
        /// Entries waiting for an earlier event of their user.
        var deferred: [EntryRef: RedisStreamEntry] = [:]
        var nextClaim: Int64 = 0
        var claimCursors: [String: String] = [:]
        /// The streams of the partitions this consumer reads, as of the last membership round.
        var share: [String]
        var nextRearm: Int64 = 0
        var failures = 0

        init(streams: [String]) {
            ownPendingFrom = Dictionary(uniqueKeysWithValues: streams.map { ($0, "0") })
            share = streams
        }
    }

    static let maxDeferred = 10_000

    public func run() async throws {
        var recorded: String?
        await retryUntilDone(logger: logger, "consumer group not created yet") {
            recorded = try await recordLayout()
            for stream in streams { try await redis.xgroupCreate(stream, group: configuration.group, startID: "0") }
        }
        if let recorded, recorded != layout {
            // Users hash to partitions by the count: under another count their state would
            // be looked for in the wrong partition.
            throw ConfigurationError(
                "RESTRICTIONS_PARTITIONS: this Redis holds restrictions laid out as '\(recorded)', not '\(layout)'; keep the partition count of the data"
            )
        }
        var state = State(streams: streams)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await step(&state)
                state.failures = 0
            } catch let error as RedisError where error.code == "NOGROUP" {
                // Redis lost the group (restarted without its data): make it again.
                logger.warning("consumer group missing, creating it")
                for stream in streams { try? await redis.xgroupCreate(stream, group: configuration.group, startID: "0") }
            } catch {
                state.failures += 1
                if state.failures == 1 || state.failures % 20 == 0 {
                    logger.warning("consumer step failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: Backoff(initial: .milliseconds(50), maximum: .seconds(1)).delay(attempt: state.failures))
            }
        }
        await membership.leave()
        logger.info("consumer stopped")
    }

    /// How this consumer lays out the keys, as recorded in Redis.
    private var layout: String { "partitions=\(applier.keys.partitions.count) stream=\(streams[0])" }

    /// Records the layout when none is; returns the one recorded.
    private func recordLayout() async throws -> String? {
        let key = applier.keys.layout
        let replies = try await redis.pipeline([RedisCommand("SET", key, layout, "NX"), RedisCommand("GET", key)])
        return try RedisClient.checked(replies[1]).string
    }

    /// One round: claim, read, apply, re-arm.
    func step(_ state: inout State) async throws {
        let now = time.milliseconds
        var entries: [RedisStreamEntry] = []
        if now >= state.nextClaim {
            let members = try await membership.refresh()
            let share = ConsumerMembership.partitions(count: streams.count, members: members, name: configuration.name).map { streams[$0] }
            if share != state.share {
                logger.info(
                    "partitions taken",
                    metadata: ["restrictions.partitions": "\(share.count)", "restrictions.consumers": "\(members.count)"]
                )
                state.share = share
            }
            entries += try await claim(&state)
            state.nextClaim = now + Int64(configuration.claimInterval.seconds * 1000)
        }
        if !state.ownPendingFrom.isEmpty {
            let own = try await redis.xreadgroup(
                group: configuration.group,
                consumer: configuration.name,
                streams: state.ownPendingFrom.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                count: configuration.batchSize
            )
            // Streams that gave nothing are done; the others go on after their last entry.
            state.ownPendingFrom = Dictionary(own.map { ($0.stream, $0.id) }) { RedisStreamID($0) < RedisStreamID($1) ? $1 : $0 }
            entries += own
        } else {
            entries += try await redis.xreadgroup(
                group: configuration.group,
                consumer: configuration.name,
                streams: state.share.map { ($0, ">") },
                count: configuration.batchSize,
                block: state.deferred.isEmpty && entries.isEmpty ? .seconds(1) : .milliseconds(5)
            )
        }
        for entry in entries { state.deferred[EntryRef(stream: entry.stream, id: entry.id)] = nil }
        // Per user the order that matters is within its partition: sorted by stream, then id.
        let batch = (Array(state.deferred.values) + entries).sorted {
            $0.stream != $1.stream ? $0.stream < $1.stream : RedisStreamID($0.id) < RedisStreamID($1.id)
        }
        state.deferred = [:]
        if !batch.isEmpty { try await apply(batch, &state) }
        if !state.deferred.isEmpty {
            // Still ours, only waiting: reset their idle time (JUSTID leaves the delivery
            // count alone) so no consumer claims them and counts a delivery towards the
            // dead-letter limit while their predecessor is being applied.
            let claims = Dictionary(grouping: state.deferred.keys, by: \.stream).map { stream, refs in
                RedisCommand(["XCLAIM", stream, configuration.group, configuration.name, 0] + refs.map { $0.id as any RedisArgument } + ["JUSTID"])
            }
            for reply in try await redis.pipeline(claims) { _ = try RedisClient.checked(reply) }
        }
        if now >= state.nextRearm {
            for rule in try await applier.rearm(now: time.milliseconds) {
                metrics.rule(rule, "rearmed")
                logger.notice("tripwire re-armed", metadata: ["restrictions.rule": "\(rule)", "restrictions.by": "rate"])
            }
            state.nextRearm = now + Int64(configuration.rearmInterval.seconds * 1000)
        }
    }

    private func apply(_ batch: [RedisStreamEntry], _ state: inout State) async throws {
        let results = try await applier.apply(batch, now: time.milliseconds)
        var counts: [String: Int] = [:]
        for (entry, result) in zip(batch, results) {
            switch result {
            case .success(.applied(let outcomes)):
                counts["applied", default: 0] += 1
                for outcome in outcomes {
                    let parts = outcome.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { continue }
                    metrics.rule(parts[1], parts[0])
                    if parts[0] == "tripped" {
                        logger.warning("tripwire tripped", metadata: ["restrictions.rule": "\(parts[1])", "restrictions.entry": "\(entry.id)"])
                    }
                }
            case .success(.duplicate):
                counts["duplicate", default: 0] += 1
            case .success(.deferred):
                counts["deferred", default: 0] += 1
                if state.deferred.count < Self.maxDeferred { state.deferred[EntryRef(stream: entry.stream, id: entry.id)] = entry }
            case .success(.malformed(let reason)):
                try await deadLetter(entry, reason: "malformed: " + reason, deliveries: 1)
            case .failure(let error):
                // Left pending: delivered again after claimIdle, dead-lettered if it keeps failing.
                counts["failed", default: 0] += 1
                logger.warning("event not applied", metadata: ["restrictions.entry": "\(entry.id)", "error": "\(error)"])
            }
        }
        for (outcome, count) in counts { metrics.events(outcome, count) }
    }

    /// Takes over entries idle longer than `claimIdle` (ours from before a restart, or a dead
    /// consumer's) in the partitions it reads; the ones delivered too often are dead-lettered
    /// instead.
    private func claim(_ state: inout State) async throws -> [RedisStreamEntry] {
        var claimed: [RedisStreamEntry] = []
        for stream in state.share {
            let (next, entries) = try await redis.xautoclaim(
                stream,
                group: configuration.group,
                consumer: configuration.name,
                minIdle: configuration.claimIdle,
                start: state.claimCursors[stream] ?? "0-0",
                count: configuration.batchSize
            )
            state.claimCursors[stream] = next
            claimed += entries
        }
        if claimed.isEmpty { return [] }
        let replies = try await redis.pipeline(claimed.map { RedisCommand("XPENDING", $0.stream, configuration.group, $0.id, $0.id, 1) })
        var live: [RedisStreamEntry] = []
        for (entry, reply) in zip(claimed, replies) {
            let deliveries = reply.array?.first?.array?[3].int ?? 1
            if deliveries > configuration.maxDeliveries {
                try await deadLetter(entry, reason: "delivered \(deliveries) times", deliveries: deliveries)
            } else {
                live.append(entry)
            }
        }
        logger.info("claimed idle entries", metadata: ["restrictions.claimed": "\(claimed.count)"])
        return live
    }

    private func deadLetter(_ entry: RedisStreamEntry, reason: String, deliveries: Int) async throws {
        try await applier.deadLetter(entry, reason: reason, deliveries: deliveries)
        metrics.events("dead_lettered")
        logger.error(
            "event dead-lettered",
            metadata: [
                "restrictions.entry": "\(entry.id)", "restrictions.reason": "\(reason)", "restrictions.deliveries": "\(deliveries)",
            ]
        )
    }
}
