import Hummingbird
import Shared

/// Impressions, scores, the feed and trending users.
/// Redis is only its profile cache here, so without it the service is degraded, not down.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(redisRequired: false, postgres: Migrator(schema: "social", migrations: [])))
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "FeedService"))
    return runtime.makeApplication(router: router)
}
