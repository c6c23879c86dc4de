import Hummingbird
import Shared

/// Feature flags and rollouts.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(postgres: Migrator(schema: "flags", migrations: [])))
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "FlagService"))
    return runtime.makeApplication(router: router)
}
