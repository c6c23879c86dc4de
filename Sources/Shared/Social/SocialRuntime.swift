/// What Post and Feed share: the runtime with the `social` schema, Redis as an optional
/// cache, and a Profile client behind the `profile` breaker (whose state shows in their
/// health as `profile`, not required).
public struct SocialRuntime: Sendable {
    public let runtime: ServiceRuntime
    public let profiles: ProfileClient

    public init(configuration: ServiceConfiguration) {
        let clientConfiguration = ProfileClient.Configuration(environment: configuration.environment)
        let runtime = ServiceRuntime(
            configuration: configuration,
            dependencies: .init(redisRequired: false, postgres: SocialSchema.migrator)
        )
        let breaker = runtime.breakers.breaker(
            for: "profile", configuration: ProfileClient.breakerConfiguration(timeout: clientConfiguration.timeout)
        )
        let profiles = ProfileClient(
            configuration: clientConfiguration, http: runtime.httpClient, breaker: breaker,
            cache: ProfileCache(redis: runtime.redis, logger: runtime.logger), logger: runtime.logger
        )
        runtime.health.add(profiles.healthCheck)
        self.runtime = runtime
        self.profiles = profiles
    }
}
