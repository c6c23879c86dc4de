import Foundation
import Shared

/// RestrictionConsumer's own settings, read from the environment.
///
/// | variable | default | |
/// |---|---|---|
/// | `RESTRICTIONS_ROLE` | `all` | `api` (ingest and queries only) or `consumer` (the worker only) |
/// | `RESTRICTIONS_READ_ACCESS` | `keyed` | `open`: `/users/{id}/restrictions`, `/rules` and `/stream` need no admin key |
/// | `RESTRICTIONS_RULES_FILE` | none | JSON events/metrics/rules replacing the three defaults |
/// | `RESTRICTIONS_STREAM` | `restrictions:events` | the event stream (dead letters in `<stream>:dead`) |
/// | `RESTRICTIONS_PARTITIONS` | 1, 16 on a cluster | log partitions by user hash (``RestrictionKeys``); fixed for a data set |
/// | `RESTRICTIONS_STREAM_MAXLEN` | 1000000 | `MAXLEN ~`; keep above the largest backlog |
/// | `RESTRICTIONS_IDEMPOTENCY_TTL_S` | 86400 | how long an `event_id` is remembered |
/// | `RESTRICTIONS_INGEST_FLUSHERS` | 4 | ingest pipelines in flight at once |
/// | `RESTRICTIONS_INGEST_BATCH` | 256 | the most appends in one pipeline |
/// | `RESTRICTIONS_GROUP` | `restrictions` | consumer group |
/// | `RESTRICTIONS_CONSUMER` | the instance id | consumer name; stable names resume their own pending entries |
/// | `RESTRICTIONS_BATCH` | 256 | entries per read |
/// | `RESTRICTIONS_CLAIM_IDLE_MS` | 30000 | entries idle this long are taken over |
/// | `RESTRICTIONS_MAX_DELIVERIES` | 5 | more deliveries than this: dead letter |
/// | `TRIPWIRE_WINDOW_S` | 300 | |
/// | `TRIPWIRE_RATIO` | 0.05 | share of known users |
/// | `TRIPWIRE_MIN_USERS` | 10 | the fewest users that can trip a rule |
///
/// and the platform's settings (``ServiceConfiguration``), with `RESTRICTION_PORT` 8082.
public struct RestrictionConfiguration: ServiceSettings {
    public var service: ServiceConfiguration
    enum Role: String, Sendable { case all, api, consumer }

    var role: Role
    /// Whether the insight reads (a user's metrics, the rules, the stream) need an admin key.
    var insightsKeyed: Bool
    var rules: RuleSet
    var keys: RestrictionKeys
    var log: EventLog.Configuration
    var ingestBatching: RedisBatcher.Configuration
    var consumer: EventConsumer.Configuration
    var tripwire: TripwireConfiguration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        let service = try ServiceConfiguration.load(
            service: "restriction",
            portVariable: "RESTRICTION_PORT",
            defaultPort: 8082,
            environment: env
        )
        self.service = service
        guard let role = Role(rawValue: env.string("RESTRICTIONS_ROLE", default: "all").lowercased()) else {
            throw RuleSetError("RESTRICTIONS_ROLE is all, api or consumer")
        }
        self.role = role
        switch env.string("RESTRICTIONS_READ_ACCESS", default: "keyed").lowercased() {
        case "keyed": insightsKeyed = true
        case "open": insightsKeyed = false
        default: throw RuleSetError("RESTRICTIONS_READ_ACCESS is keyed or open")
        }
        if let path = env.string("RESTRICTIONS_RULES_FILE") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            rules = try RuleSet(json: try JSONValue.parse(data))
        } else {
            rules = .defaults
        }
        var partitions: Int?
        if let text = env.string("RESTRICTIONS_PARTITIONS") {
            guard let count = Int(text), (1...1024).contains(count) else { throw RuleSetError("RESTRICTIONS_PARTITIONS is 1 to 1024") }
            partitions = count
        }
        keys = .service(stream: env.string("RESTRICTIONS_STREAM"), partitions: partitions, cluster: service.redis.isCluster)
        log = .init(
            maxLength: env.int("RESTRICTIONS_STREAM_MAXLEN", default: 1_000_000),
            idempotencyTTL: .seconds(env.int("RESTRICTIONS_IDEMPOTENCY_TTL_S", default: 86_400))
        )
        ingestBatching = .init(
            flushers: env.int("RESTRICTIONS_INGEST_FLUSHERS", default: 4),
            maximumBatch: env.int("RESTRICTIONS_INGEST_BATCH", default: 256)
        )
        consumer = .init(
            group: env.string("RESTRICTIONS_GROUP", default: "restrictions"),
            name: env.string("RESTRICTIONS_CONSUMER") ?? service.instance,
            batchSize: max(1, env.int("RESTRICTIONS_BATCH", default: 256)),
            claimIdle: env.milliseconds("RESTRICTIONS_CLAIM_IDLE_MS", default: .seconds(30)),
            maxDeliveries: max(1, env.int("RESTRICTIONS_MAX_DELIVERIES", default: 5))
        )
        tripwire = .init(
            window: .seconds(env.int("TRIPWIRE_WINDOW_S", default: 300)),
            ratio: env.double("TRIPWIRE_RATIO", default: 0.05),
            minimumUsers: env.int("TRIPWIRE_MIN_USERS", default: 10)
        )
    }
}
