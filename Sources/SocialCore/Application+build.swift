import Hummingbird
import Shared

/// User profiles: the owner of `social.users`.
///
/// The composition root of ProfileService: everything it runs is made and wired here.
public func buildProfileApplication(configuration: SocialConfiguration) throws -> some ApplicationProtocol {
    var runtime = ServiceRuntime(configuration: configuration.service)
    let postgres = runtime.addPostgres(migrating: SocialSchema.migrator)
    let router = runtime.makeRouter(openAPI: ProfileAPI.document)
    ProfileAPI(store: ProfileStore(postgres: postgres), cache: ProfileCache(redis: runtime.redis, logger: runtime.logger))
        .register(on: router)
    return runtime.makeApplication(router: router)
}

/// Posts, served with their author's profile. Profile is called through a breaker; with it
/// down, authors come from the Redis cache. Redis is only that cache here, so without it the
/// service is degraded, not down.
///
/// The composition root of PostService: everything it runs is made and wired here.
public func buildPostApplication(configuration: SocialConfiguration) throws -> some ApplicationProtocol {
    let social = SocialRuntime(configuration: configuration)
    let router = social.runtime.makeRouter(openAPI: PostAPI.document)
    PostAPI(store: PostStore(postgres: social.postgres), profiles: social.profiles).register(on: router)
    return social.runtime.makeApplication(router: router)
}

/// Impressions, scores, the feed and trending users. Profile is called through a breaker;
/// with it down, trending users come from the Redis cache. Redis is only that cache here, so
/// without it the service is degraded, not down.
///
/// The composition root of FeedService: everything it runs is made and wired here.
public func buildFeedApplication(configuration: SocialConfiguration) throws -> some ApplicationProtocol {
    let social = SocialRuntime(configuration: configuration)
    let router = social.runtime.makeRouter(openAPI: FeedAPI.document)
    FeedAPI(store: FeedStore(postgres: social.postgres), posts: PostStore(postgres: social.postgres), profiles: social.profiles).register(on: router)
    return social.runtime.makeApplication(router: router)
}
