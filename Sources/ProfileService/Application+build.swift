import Hummingbird
import Shared

/// User profiles.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(postgres: Migrator(schema: "social", migrations: [])))
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "ProfileService"))
    return runtime.makeApplication(router: router)
}
