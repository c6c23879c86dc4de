import Shared

/// StreamFilter's settings, read from the environment.
///
/// | variable | default | |
/// |---|---|---|
/// | `STREAM_ROLE` | `all` | `api` (filters, producing, delivery), `worker` (matching), or both |
/// | `STREAM_ACCESS` | `open` | `keyed`: filter reads, producing and delivery need an admin or client key |
/// | `CLIENT_API_KEYS` | none | keys that may read, produce and subscribe, not change filters |
/// | `STREAM_PARTITIONS` | 8 | partitions of the log (every instance must agree) |
/// | `STREAM_LOG_MAX_LENGTH` | 1000000 | entries kept per partition, at least |
/// | `STREAM_LOG_RETENTION_MS` | 86400000 | log entries older than this are trimmed |
/// | `STREAM_DEDUPE_WINDOW_MS` | 86400000 | how long a produced `event_id` is remembered |
/// | `STREAM_REPLAY_MAX_LENGTH` | 10000 | matched events kept per subscriber for resuming, at least |
/// | `STREAM_REPLAY_RETENTION_MS` | 86400000 | the replay window by age |
/// | `STREAM_WORKER_BATCH` | 500 | log entries a worker reads per round |
/// | `STREAM_LEASE_MS`, `STREAM_LEASE_RENEW_MS` | 5000, 1000 | partition leases of the workers |
/// | `STREAM_RESYNC_MS` | 10000 | full reload of the filters, the bound on a missed change notice |
/// | `STREAM_QUEUE_LIMIT` | 1000 | live messages a connection may have waiting before it is closed as slow |
/// | `STREAM_SLOW_CLOSE_GRACE_MS` | 2000 | how long a slow client's close frame may wait before the connection is cut |
/// | `STREAM_PING_MS` | 15000 | WebSocket ping period; no pong by the next ping closes the connection |
/// | `STREAM_SSE_KEEPALIVE_MS` | 15000 | comment lines on idle event streams |
/// | `STREAM_INGEST_FLUSHERS`, `STREAM_INGEST_BATCH` | 4, 256 | pipelining of concurrent single produces |
///
/// and the platform's settings (``ServiceConfiguration``), with `STREAM_PORT` 8084.
public struct StreamConfiguration: ServiceSettings {
    public enum Role: String, Sendable { case api, worker, all }

    public var service: ServiceConfiguration
    public var role: Role
    var access: StreamAccess
    var log: EventLog.Configuration
    var worker: FilterWorker.Configuration
    var delivery: DeliveryAPI.Configuration
    var resyncInterval: Duration
    var pingInterval: Duration
    var keepAliveInterval: Duration
    var ingestBatching: RedisBatcher.Configuration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        let service = try ServiceConfiguration.load(service: "stream", portVariable: "STREAM_PORT", defaultPort: 8084, environment: env)
        self.service = service
        let roleName = env.string("STREAM_ROLE", default: "all").lowercased()
        guard let role = Role(rawValue: roleName) else { throw ConfigurationError("STREAM_ROLE must be api, worker or all, not \(roleName)") }
        self.role = role
        access = StreamAccess(
            adminKeys: service.adminAPIKeys,
            clientKeys: APIKeySet(env.list("CLIENT_API_KEYS")),
            keyed: env.string("STREAM_ACCESS", default: "open").lowercased() == "keyed"
        )
        let partitions = env.int("STREAM_PARTITIONS", default: 8)
        guard (1...1024).contains(partitions) else { throw ConfigurationError("STREAM_PARTITIONS must be 1 to 1024") }
        log = .init(
            partitions: partitions,
            maxLength: max(1, env.int("STREAM_LOG_MAX_LENGTH", default: 1_000_000)),
            retention: env.milliseconds("STREAM_LOG_RETENTION_MS", default: .seconds(86_400)),
            dedupeWindow: env.milliseconds("STREAM_DEDUPE_WINDOW_MS", default: .seconds(86_400))
        )
        worker = .init(
            batchSize: max(1, env.int("STREAM_WORKER_BATCH", default: 500)),
            leaseTTL: env.milliseconds("STREAM_LEASE_MS", default: .seconds(5)),
            renewInterval: env.milliseconds("STREAM_LEASE_RENEW_MS", default: .seconds(1)),
            replayMaxLength: max(1, env.int("STREAM_REPLAY_MAX_LENGTH", default: 10_000)),
            replayRetention: env.milliseconds("STREAM_REPLAY_RETENTION_MS", default: .seconds(86_400))
        )
        guard worker.renewInterval < worker.leaseTTL else { throw ConfigurationError("STREAM_LEASE_RENEW_MS must be below STREAM_LEASE_MS") }
        delivery = .init(
            queueLimit: max(1, env.int("STREAM_QUEUE_LIMIT", default: 1_000)),
            slowCloseGrace: env.milliseconds("STREAM_SLOW_CLOSE_GRACE_MS", default: .seconds(2))
        )
        resyncInterval = env.milliseconds("STREAM_RESYNC_MS", default: .seconds(10))
        pingInterval = env.milliseconds("STREAM_PING_MS", default: .seconds(15))
        keepAliveInterval = env.milliseconds("STREAM_SSE_KEEPALIVE_MS", default: .seconds(15))
        ingestBatching = .init(flushers: env.int("STREAM_INGEST_FLUSHERS", default: 4), maximumBatch: env.int("STREAM_INGEST_BATCH", default: 256))
    }
}
