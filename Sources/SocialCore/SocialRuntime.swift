import Shared

/// What Post and Feed share: the runtime with the `social` schema, Redis as an optional
/// cache, and a Profile client behind the `profile` breaker (whose state shows in their
/// health as `profile`, not required).
struct SocialRuntime: Sendable {
    let runtime: ServiceRuntime
    let postgres: PostgresClient
    let profiles: ProfileClient

    init(configuration: SocialConfiguration) {
        var runtime = ServiceRuntime(configuration: configuration.service, redisRequired: false)
        self.postgres = runtime.addPostgres(migrating: SocialSchema.migrator)
        let breaker = runtime.breakers.breaker(
            for: "profile",
            configuration: ProfileClient.breakerConfiguration(timeout: configuration.profileClient.timeout)
        )
        let profiles = ProfileClient(
            configuration: configuration.profileClient,
            http: runtime.httpClient,
            breaker: breaker,
            cache: ProfileCache(redis: runtime.redis, logger: runtime.logger),
            logger: runtime.logger
        )
        runtime.health.add(profiles.healthCheck)
        self.runtime = runtime
        self.profiles = profiles
    }
}
