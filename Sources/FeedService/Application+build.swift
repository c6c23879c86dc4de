import Hummingbird
import Shared

/// Impressions, scores, the feed and trending users. Profile is called through a breaker;
/// with it down, trending users come from the Redis cache. Redis is only that cache here, so
/// without it the service is degraded, not down.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let social = SocialRuntime(configuration: config)
    let router = social.runtime.makeRouter(openAPI: FeedAPI.document)
    FeedAPI(postgres: social.runtime.postgres!, profiles: social.profiles).register(on: router)
    return social.runtime.makeApplication(router: router)
}
