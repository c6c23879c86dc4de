import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// What every service is built from: its logger, metrics, Redis (heartbeats, caches) and, if
/// it keeps durable state, PostgreSQL with its migrations; its health reporter and the
/// registry of the others' health.
///
/// A service's `buildApplication` makes one runtime, adds PostgreSQL if it keeps durable
/// state (``addPostgres(migrating:required:)``), adds its own routes to
/// ``makeRouter(openAPI:)`` and returns ``makeApplication(router:server:services:)``.
///
/// The service group starts every service at once and stops them in reverse order. Nothing
/// here waits for another service to have started: the clients open connections (and start
/// their threads) on first use, migrations and the heartbeat retry until their dependency
/// answers. What the order buys is the shutdown: the HTTP server stops first, so in-flight
/// requests finish; then the heartbeat says `down`, then the service's own services, the
/// registry and migrations stop, and the pools close last.
public struct ServiceRuntime: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let metrics: ServiceMetrics
    public let redis: RedisClient
    public let health: HealthReporter
    public let registry: HealthRegistry
    public let breakers: BreakerBoard
    /// Checks API keys, names them by fingerprint, and limits refused checks per client.
    public let keys: APIKeyVerifier
    /// The server's client connections, held to the configuration's ``ConnectionLimits``.
    public let connections: ConnectionCounter
    /// Outgoing HTTP (calls to other services), closed after the server stops.
    public var httpClient: HTTPClient { http.client }
    private let http = HTTPClientService()
    private var postgres: (client: PostgresClient, migrations: MigrationService)?
    private let registryService: HealthRegistryService

    /// - Parameter redisRequired: not ready without Redis (false: only `degraded`, where
    ///   Redis is just a cache or the service routes without it).
    public init(configuration: ServiceConfiguration, redisRequired: Bool = true) {
        self.configuration = configuration
        var logger = Logger.service(configuration.service, level: configuration.logLevel, format: configuration.logFormat)
        logger[metadataKey: "service"] = .string(configuration.service)
        logger[metadataKey: "instance"] = .string(configuration.instance)
        self.logger = logger
        self.metrics = ServiceMetrics()
        self.redis = RedisClient(configuration: configuration.redis, logger: logger)
        self.health = HealthReporter(
            service: configuration.service,
            instance: configuration.instance,
            version: configuration.version,
            url: configuration.advertisedURL,
            checks: [.redis(redis, required: redisRequired)],
            interval: configuration.healthInterval,
            publishingTo: redis,
            logger: logger
        )
        self.registry = HealthRegistry(interval: configuration.healthInterval, clock: ContinuousClock())
        self.registryService = HealthRegistryService(registry: registry, redis: configuration.redis, logger: logger)
        let health = self.health
        self.breakers = BreakerBoard(
            caller: configuration.service,
            instance: configuration.instance,
            redis: redis,
            registry: registry,
            metrics: metrics,
            logger: logger,
            onTransition: { health.checkSoon() }
        )
        self.keys = APIKeyVerifier(
            fingerprinter: configuration.keyFingerprinter,
            failures: AuthFailureGuard(policy: configuration.authFailureLimit, clock: ContinuousClock())
        )
        let redis = self.redis
        metrics.trackPool("redis") { redis.poolUsage }
        let connections = ConnectionCounter(limits: configuration.connectionLimits)
        self.connections = connections
        metrics.trackConnections(connections)
    }

    /// PostgreSQL for a service that keeps durable state: the client, the migrations of
    /// `migrator` run at start-up, and their health check.
    /// - Parameter required: not ready without PostgreSQL (false: only `degraded`, e.g.
    ///   FlagService, which evaluates from memory and needs PostgreSQL only for writes).
    public mutating func addPostgres(migrating migrator: Migrator, required: Bool = true) -> PostgresClient {
        precondition(postgres == nil, "one PostgreSQL per service")
        let client = PostgresClient(configuration: configuration.postgres, logger: logger)
        let migrations = MigrationService(migrator: migrator, client: client, logger: logger)
        health.add(migrations.healthCheck(required: required))
        metrics.trackPool("postgres") { client.poolUsage }
        postgres = (client, migrations)
        return client
    }

    /// A router with the suite's middleware (request id, client address, metrics and access
    /// log, problem errors, canonical paths, body limit) and the common routes; `/docs` links
    /// `docsLinks`.
    public func makeRouter(openAPI: OpenAPIDocument, docsLinks: [APIDocsPage.Link] = []) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ObservabilityMiddleware(metrics: metrics))
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        router.addCommonRoutes(health: health, metrics: metrics, openAPI: openAPI, docsLinks: docsLinks)
        if configuration.environment.bool("BENCH_BARE_ROUTE", default: false) {
            router.addBareBenchRoute(bytes: configuration.environment.int("BENCH_BARE_BYTES", default: 256))
        }
        return router
    }

    /// The application with every long-lived part as a service, in the order whose reverse
    /// is the shutdown described above (Hummingbird runs the HTTP server after them all).
    public func makeApplication(router: Router<ServiceRequestContext>, services: [any Service] = []) -> some ApplicationProtocol {
        makeApplication(router: router, server: { HTTP1Channel(responder: $0, configuration: $1) }, services: services)
    }

    /// The application as above, with a server of the service's own kind.
    /// - Parameter server: the server's child channel from the responder and the HTTP/1
    ///   configuration to use (the gateway and StreamFilter add WebSocket upgrades); every
    ///   connection is held to ``ConnectionLimits`` in front of it.
    public func makeApplication<Child: ServerChildChannel>(
        router: Router<ServiceRequestContext>,
        server: @escaping @Sendable (@escaping HTTPChannelHandler.Responder, HTTP1Channel.Configuration) -> Child,
        services: [any Service] = []
    ) -> some ApplicationProtocol {
        var all: [any Service] = [redis]
        if let postgres { all.append(postgres.client) }
        all.append(http)
        if let postgres { all.append(postgres.migrations) }
        all.append(registryService)
        all += services
        all.append(health)
        return Application(
            router: router,
            server: .guarded(connections, server),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: all,
            logger: logger
        )
    }
}
