import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// What every service is built from: its logger, metrics, Redis (heartbeats, caches) and, if
/// it keeps durable state, PostgreSQL with its migrations; its health reporter and the
/// registry of the others' health.
///
/// A service's `buildApplication(config:)` makes one runtime, adds its own routes to
/// ``makeRouter(openAPI:)`` and returns ``makeApplication(router:services:)``. Start order
/// follows dependencies: Redis, PostgreSQL, migrations, the health registry, the service's
/// own services, the heartbeat, then the HTTP server; shutdown runs in reverse, so in-flight
/// requests finish before the heartbeat says `down` and the pools close last.
public struct ServiceRuntime: Sendable {
    /// Which dependencies the service has, and whether it can serve without them.
    public struct Dependencies: Sendable {
        /// Not ready without Redis (false: only `degraded`, e.g. Redis is just a cache).
        public var redisRequired: Bool
        /// The schema to migrate; nil for services without durable state.
        public var postgres: Migrator?
        /// Not ready without PostgreSQL (false: only `degraded`, e.g. FlagService, which
        /// evaluates from memory and only needs PostgreSQL for writes).
        public var postgresRequired: Bool

        public init(redisRequired: Bool = true, postgres: Migrator? = nil, postgresRequired: Bool = true) {
            self.redisRequired = redisRequired
            self.postgres = postgres
            self.postgresRequired = postgresRequired
        }
    }

    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let metrics: ServiceMetrics
    public let redis: RedisClient
    public let postgres: PostgresClient?
    public let health: HealthReporter
    public let registry: HealthRegistry
    public let breakers: BreakerBoard
    /// Checks API keys, names them by fingerprint, and limits refused checks per client.
    public let keys: APIKeyVerifier
    /// Outgoing HTTP (calls to other services), closed after the server stops.
    public var httpClient: HTTPClient { http.client }
    private let http = HTTPClientService()
    private let migrations: MigrationService?
    private let registryService: HealthRegistryService

    public init(configuration: ServiceConfiguration, dependencies: Dependencies, extraChecks: [HealthCheck] = []) {
        self.configuration = configuration
        var logger = Logger.service(configuration.service, level: configuration.logLevel, format: configuration.logFormat)
        logger[metadataKey: "service"] = .string(configuration.service)
        logger[metadataKey: "instance"] = .string(configuration.instance)
        self.logger = logger
        self.metrics = ServiceMetrics()
        self.redis = RedisClient(configuration: configuration.redis, logger: logger)
        var checks = [HealthCheck.redis(redis, required: dependencies.redisRequired)]
        if let migrator = dependencies.postgres {
            let postgres = PostgresClient(configuration: configuration.postgres, logger: logger)
            let migrations = MigrationService(migrator: migrator, client: postgres, logger: logger)
            self.postgres = postgres
            self.migrations = migrations
            checks.append(migrations.healthCheck(required: dependencies.postgresRequired))
        } else {
            self.postgres = nil
            self.migrations = nil
        }
        self.health = HealthReporter(
            service: configuration.service, instance: configuration.instance, version: configuration.version,
            url: configuration.advertisedURL, checks: checks + extraChecks, interval: configuration.healthInterval, publishingTo: redis, logger: logger
        )
        self.registry = HealthRegistry(interval: configuration.healthInterval, clock: ContinuousClock())
        self.registryService = HealthRegistryService(registry: registry, redis: configuration.redis, logger: logger)
        self.breakers = BreakerBoard(
            caller: configuration.service, instance: configuration.instance, redis: redis,
            registry: registry, metrics: metrics, logger: logger
        )
        self.keys = APIKeyVerifier(
            fingerprinter: configuration.keyFingerprinter,
            failures: AuthFailureGuard(policy: configuration.authFailureLimit, clock: ContinuousClock())
        )
        let redis = self.redis
        metrics.trackPool("redis") { redis.poolUsage }
        if let postgres {
            metrics.trackPool("postgres") { postgres.poolUsage }
        }
    }

    /// A router with the suite's middleware (request id, client address, metrics and access
    /// log, problem errors, canonical paths, body limit) and the common routes.
    public func makeRouter(openAPI: OpenAPIDocument) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ObservabilityMiddleware(metrics: metrics))
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        router.addCommonRoutes(health: health, metrics: metrics, openAPI: openAPI)
        if configuration.environment.bool("BENCH_BARE_ROUTE", default: false) {
            router.addBareBenchRoute(bytes: configuration.environment.int("BENCH_BARE_BYTES", default: 256))
        }
        return router
    }

    /// The application with every long-lived part as a service, in dependency order.
    /// - Parameter server: the HTTP server (the gateway adds WebSocket upgrades).
    public func makeApplication(
        router: Router<ServiceRequestContext>, server: HTTPServerBuilder = .http1(), services: [any Service] = []
    ) -> some ApplicationProtocol {
        var all: [any Service] = [redis]
        if let postgres { all.append(postgres) }
        all.append(http)
        if let migrations { all.append(migrations) }
        all.append(registryService)
        all += services
        all.append(health)
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: all,
            logger: logger
        )
    }
}
