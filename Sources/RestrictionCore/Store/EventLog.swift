import Crypto
import HTTPTypes
import Shared

/// Appends events to their user's partition of the log: one script per event numbers it
/// within its user (`seq`, what the consumer orders and deduplicates by), adds it with
/// `MAXLEN ~`, and records an idempotency key's answer, all atomically. With a
/// ``RedisBatcher``, concurrent appends share pipelines; each script still runs on its own,
/// in the order the appends arrived.
public struct EventLog: Sendable {
    public struct Configuration: Sendable {
        /// `MAXLEN ~` of each partition's stream. Redis trims regardless of consumer groups, so this must
        /// stay above the largest backlog the consumers may fall behind by.
        var maxLength: Int
        /// How long a repeated post with the same key is answered from the first one.
        var idempotencyTTL: Duration

        public init(maxLength: Int = 1_000_000, idempotencyTTL: Duration = .seconds(86_400)) {
            self.maxLength = maxLength
            self.idempotencyTTL = idempotencyTTL
        }
    }

    /// The stream id, and whether it is the answer to an earlier post with the same key.
    public struct Appended: Sendable, Equatable {
        let id: String
        let replayed: Bool
    }

    let redis: RedisClient
    let batcher: RedisBatcher?
    let keys: RestrictionKeys
    let configuration: Configuration

    public init(redis: RedisClient, batcher: RedisBatcher? = nil, keys: RestrictionKeys, configuration: Configuration) {
        self.redis = redis
        self.batcher = batcher
        self.keys = keys
        self.configuration = configuration
    }

    /// Appends `event`; with an idempotency key this producer already used for a different
    /// event of the same user, throws ``IdempotencyConflict``.
    ///
    /// - Parameter producer: who sent it (``producer(of:fingerprinter:)``); an `event_id` is
    ///   unique per producer and user.
    public func append(_ event: IncomingEvent, producer: String = EventLog.anonymousProducer, receivedAt: Int64) async throws -> Appended {
        let command = command(event, producer: producer, receivedAt: receivedAt)
        let reply = if let batcher { try await batcher.run(command, of: Self.script) } else { try await redis.run(command, of: Self.script) }
        return try Self.appended(reply, event)
    }

    /// Many events in one pipeline, in order (benchmarks and bulk loads).
    public func append(_ events: [IncomingEvent], producer: String = EventLog.anonymousProducer, receivedAt: Int64) async throws -> [Appended] {
        let replies = try await redis.pipeline(events.map { command($0, producer: producer, receivedAt: receivedAt) }, loading: Self.script)
        return try zip(replies, events).map { reply, event in
            if case .error(let message) = reply { throw RedisError(message: message) }
            return try Self.appended(reply, event)
        }
    }

    /// `EVALSHA` of the script. KEYS: stream, user, [idempotency]. ARGV: maxlen, ttl s,
    /// fingerprint (only with a key), then the entry's fields and values.
    private func command(_ event: IncomingEvent, producer: String, receivedAt: Int64) -> RedisCommand {
        var command = RedisCommand(reservingCapacity: 256, arguments: 16 + 2 * event.fields.count)
        command.append("EVALSHA")
        command.append(Self.script.sha1)
        command.append(event.idempotencyKey == nil ? 2 : 3)
        let partition = keys.partition(ofUser: event.userID)
        command.append(partition.stream)
        command.append(partition.user(event.userID))
        if let key = event.idempotencyKey { command.append(partition.idempotency(key, producer: producer, user: event.userID)) }
        command.append(configuration.maxLength)
        command.append(max(1, Int(configuration.idempotencyTTL.seconds)))
        command.append(event.idempotencyKey == nil ? "" : event.fingerprintDigest)
        command.append("name")
        command.append(event.name)
        command.append("user_id")
        command.append(event.userID)
        command.append("at")
        command.append(Int(receivedAt))
        if let key = event.idempotencyKey {
            command.append("event_id")
            command.append(key)
        }
        for (field, value) in event.fields {
            command.append(field)
            command.append(value)
        }
        return command
    }

    /// The producer of a request without a key.
    public static let anonymousProducer = "anonymous"

    /// Who sent a request, for scoping its `event_id`: the HMAC fingerprint of the key it
    /// carries (`X-Api-Key` or a bearer token; ingest does not require one, so any key names
    /// a producer, and nobody can speak for a producer without its key), else anonymous.
    static func producer(of headers: HTTPFields, fingerprinter: KeyFingerprinter) -> String {
        APIKeyVerifier.presentedKey(in: headers).map(fingerprinter.fingerprint) ?? anonymousProducer
    }

    private static func appended(_ reply: RedisReply, _ event: IncomingEvent) throws -> Appended {
        guard let parts = reply.array, parts.count == 3, let id = parts[0].string else {
            throw RedisError(message: "unexpected reply to the ingest script")
        }
        let replayed = parts[1].int == 1
        if replayed, parts[2].string != event.fingerprintDigest { throw IdempotencyConflict() }
        return Appended(id: id, replayed: replayed)
    }

    /// KEYS: stream, user, [idempotency]. ARGV: maxlen, ttl s, fingerprint, field/value….
    static let script = RedisScript(
        """
        if KEYS[3] then
          local previous = redis.call('HMGET', KEYS[3], 'id', 'fingerprint')
          if previous[1] then return {previous[1], 1, previous[2]} end
        end
        local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
        local command = {'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq}
        for i = 4, #ARGV do command[#command + 1] = ARGV[i] end
        local id = redis.call(unpack(command))
        if KEYS[3] then
          redis.call('HSET', KEYS[3], 'id', id, 'fingerprint', ARGV[3])
          redis.call('EXPIRE', KEYS[3], ARGV[2])
        end
        return {id, 0, ARGV[3]}
        """
    )
}

extension IncomingEvent {
    var fingerprintDigest: String {
        hex(SHA256.hash(data: Array(fingerprint.utf8)))
    }
}
