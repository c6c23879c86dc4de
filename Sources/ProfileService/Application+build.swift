import Foundation
import Hummingbird
import Shared

/// User profiles: the owner of `social.users`.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(postgres: SocialSchema.migrator))
    let router = runtime.makeRouter(openAPI: ProfileAPI.document)
    ProfileAPI(postgres: runtime.postgres!, cache: ProfileCache(redis: runtime.redis, logger: runtime.logger)).register(on: router)
    return runtime.makeApplication(router: router)
}
