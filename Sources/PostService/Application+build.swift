import Hummingbird
import Shared

/// Posts, served with their author's profile. Profile is called through a breaker; with it
/// down, authors come from the Redis cache. Redis is only that cache here, so without it the
/// service is degraded, not down.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let social = SocialRuntime(configuration: config)
    let router = social.runtime.makeRouter(openAPI: PostAPI.document)
    PostAPI(postgres: social.runtime.postgres!, profiles: social.profiles).register(on: router)
    return social.runtime.makeApplication(router: router)
}
