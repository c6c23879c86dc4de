import Hummingbird
import Shared

/// Subscriber filters and WebSocket delivery of matching events.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init(postgres: Migrator(schema: "streams", migrations: [])))
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "StreamFilter"))
    return runtime.makeApplication(router: router)
}
