import Hummingbird
import ServiceLifecycle
import Shared

/// Event ingest, the stream consumer and restriction queries.
///
/// The composition root: everything the service runs is made and wired here. By role, an
/// instance serves the API, runs a consumer, or both (`RESTRICTIONS_ROLE`), so consumers
/// scale apart from the API. Redis holds all of its state; PostgreSQL is not used.
public func buildApplication(configuration restrictions: RestrictionConfiguration) throws -> some ApplicationProtocol {
    let config = restrictions.service
    let runtime = ServiceRuntime(configuration: config)
    let time = WallTime(ContinuousClock())
    let applier = EventApplier(
        redis: runtime.redis,
        keys: restrictions.keys,
        group: restrictions.consumer.group,
        rules: restrictions.rules,
        tripwire: restrictions.tripwire
    )
    let batcher = RedisBatcher(redis: runtime.redis, configuration: restrictions.ingestBatching)
    let api = RestrictionAPI(
        rules: restrictions.rules,
        log: EventLog(redis: runtime.redis, batcher: batcher, keys: restrictions.keys, configuration: restrictions.log),
        reader: RestrictionReader(redis: runtime.redis, applier: applier),
        applier: applier,
        time: time,
        fingerprinter: runtime.keys.fingerprinter
    )

    let router = runtime.makeRouter(openAPI: RestrictionOpenAPI.document)
    var services: [any Service] = []
    if restrictions.role != .consumer {
        services.append(batcher)
        api.registerIngest(on: router)
        api.registerQueries(on: router)
        api.registerAdmin(on: router.group().add(middleware: APIKeyMiddleware(keys: config.adminAPIKeys, verifier: runtime.keys)))
        if restrictions.insightsKeyed {
            api.registerInsights(
                on: router.group().add(middleware: APIKeyMiddleware(keys: config.adminAPIKeys, verifier: runtime.keys, protectReads: true))
            )
        } else {
            api.registerInsights(on: router)
        }
    }
    if restrictions.role != .api {
        services.append(
            EventConsumer(
                redis: runtime.redis,
                applier: applier,
                configuration: restrictions.consumer,
                time: time,
                metrics: RestrictionMetrics(runtime.metrics),
                logger: runtime.logger
            )
        )
    }
    runtime.logger.info(
        "restrictions",
        metadata: [
            "restrictions.role": "\(restrictions.role.rawValue)", "restrictions.rules": "\(restrictions.rules.rules.map(\.name))",
        ]
    )
    return runtime.makeApplication(router: router, services: services)
}
