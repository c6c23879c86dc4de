import Hummingbird
import Shared

/// Front door: routing, breakers per upstream, rate limits, API keys, health dashboard.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init())
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "Gateway"))
    return runtime.makeApplication(router: router)
}
