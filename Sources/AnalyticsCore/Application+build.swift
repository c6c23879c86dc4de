import Hummingbird
import Shared

/// Metric ingestion, rollups, summaries with percentiles, and an external source behind a
/// breaker.
///
/// The composition root: everything the service runs is made and wired here. Points are
/// durable in PostgreSQL before their 201; Redis holds the rate-limit cells and the summary
/// cache, and without it the limit is kept in process and summaries are computed uncached.
public func buildApplication(configuration analytics: AnalyticsConfiguration) throws -> some ApplicationProtocol {
    let config = analytics.service
    var runtime = ServiceRuntime(configuration: config, redisRequired: false)
    let postgres = runtime.addPostgres(migrating: AnalyticsSchema.migrator)
    let metrics = AnalyticsMetrics(runtime.metrics)
    let writer = PointWriter(postgres: postgres, configuration: analytics.writer)
    metrics.track(writer, on: runtime.metrics)
    let breaker = runtime.breakers.breaker(
        for: "external",
        configuration: ExternalSource.breakerConfiguration(timeout: analytics.external.timeout)
    )
    let external = ExternalSource(configuration: analytics.external, http: runtime.httpClient, breaker: breaker, logger: runtime.logger)
    runtime.health.add(external.healthCheck)

    // Rate-limit checks of concurrent posts share round trips to Redis.
    let limitChecks = RedisBatcher(redis: runtime.redis)
    let router = runtime.makeRouter(openAPI: AnalyticsOpenAPI.document)
    MetricsAPI(
        writer: writer,
        limiter: RateLimiter(
            redis: runtime.redis,
            batcher: limitChecks,
            keyPrefix: "analytics:ratelimit:",
            clock: ContinuousClock(),
            logger: runtime.logger
        ),
        policy: analytics.rateLimit,
        keys: runtime.keys,
        clientKeys: analytics.clientKeys,
        window: analytics.window,
        metrics: metrics
    ).register(on: router)
    SummaryAPI(
        store: SummaryStore(postgres: postgres),
        cache: SummaryCache(redis: runtime.redis, configuration: analytics.cache, metrics: metrics, logger: runtime.logger),
        external: external,
        maxRange: analytics.retention.retention
    ).register(on: router)
    let retention = RetentionService(postgres: postgres, configuration: analytics.retention, logger: runtime.logger)
    let rollup = RollupService(postgres: postgres, configuration: analytics.rollup, metrics: metrics, logger: runtime.logger)
    return runtime.makeApplication(router: router, services: [limitChecks, writer, rollup, retention])
}
