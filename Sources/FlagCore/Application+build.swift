import Hummingbird
import Shared

/// Feature flags and rollouts.
///
/// The composition root: everything the service runs is made and wired here. Evaluations
/// read the in-memory snapshot that ``FlagSyncService`` keeps current, so PostgreSQL is only
/// needed for writes and history: without it the instance is `degraded`, still ready.
public func buildApplication(configuration flags: FlagServiceConfiguration) throws -> some ApplicationProtocol {
    var runtime = ServiceRuntime(configuration: flags.service)
    let postgres = runtime.addPostgres(migrating: FlagSchema.migrator, required: false)
    let store = FlagStore(logger: runtime.logger)
    let repository = FlagRepository(postgres: postgres)
    let sync = FlagSyncService(
        store: store,
        repository: repository,
        redis: flags.service.redis,
        configuration: flags.sync,
        logger: runtime.logger
    )
    runtime.health.add(sync.healthCheck)

    let router = runtime.makeRouter(openAPI: FlagOpenAPI.document)
    // Each access level is a group of its own: the check that runs is the matched route's.
    let reads = router.group().add(middleware: FlagAccessMiddleware(.read, policy: flags.access, verifier: runtime.keys))
    let writes = router.group().add(middleware: FlagAccessMiddleware(.write, policy: flags.access, verifier: runtime.keys))
    let evaluations = router.group().add(middleware: FlagAccessMiddleware(.evaluate, policy: flags.access, verifier: runtime.keys))
    let ofrep = evaluations.group("/ofrep/v1")
    if let policy = flags.ofrepRateLimit {
        let limiter = RateLimiter(redis: runtime.redis, keyPrefix: "flags:ratelimit:", clock: ContinuousClock(), logger: runtime.logger)
        ofrep.add(middleware: RateLimitMiddleware(limiter: limiter, policy: policy))
    }
    FlagAPI(store: store, repository: repository, publisher: FlagPublisher(store: store, redis: runtime.redis, logger: runtime.logger))
        .register(reads: reads, writes: writes)
    EvaluationAPI(store: store).register(on: evaluations, ofrep: ofrep)
    FlagEventsAPI(store: store).register(on: reads)
    return runtime.makeApplication(router: router, services: [sync])
}
