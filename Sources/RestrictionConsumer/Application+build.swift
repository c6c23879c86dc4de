import Hummingbird
import Shared

/// Event ingest, stream consumer and restriction queries.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init())
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "RestrictionConsumer"))
    return runtime.makeApplication(router: router)
}
