import Foundation
import Hummingbird
import RestrictionCore
import ServiceLifecycle
import Shared

/// Event ingest, the stream consumer and restriction queries.
///
/// The composition root: everything the service runs is made and wired here. By role, an
/// instance serves the API, runs a consumer, or both (`RESTRICTIONS_ROLE`), so consumers
/// scale apart from the API. Redis holds all of its state; PostgreSQL is not used.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init())
    let restrictions: RestrictionConfiguration
    do {
        restrictions = try RestrictionConfiguration(service: config)
    } catch {
        runtime.logger.critical("invalid configuration", metadata: ["error": "\(error)"])
        exit(1)
    }
    let time = WallTime(ContinuousClock())
    let applier = EventApplier(
        redis: runtime.redis, keys: restrictions.keys, group: restrictions.consumer.group,
        rules: restrictions.rules, tripwire: restrictions.tripwire
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
            api.registerInsights(on: router.group().add(middleware: APIKeyMiddleware(keys: config.adminAPIKeys, verifier: runtime.keys, protectReads: true)))
        } else {
            api.registerInsights(on: router)
        }
    }
    if restrictions.role != .api {
        services.append(EventConsumer(
            redis: runtime.redis, applier: applier, configuration: restrictions.consumer, time: time,
            metrics: RestrictionMetrics(runtime.metrics), logger: runtime.logger
        ))
    }
    runtime.logger.info("restrictions", metadata: [
        "restrictions.role": "\(restrictions.role.rawValue)", "restrictions.rules": "\(restrictions.rules.rules.map(\.name))",
    ])
    return runtime.makeApplication(router: router, services: services)
}
