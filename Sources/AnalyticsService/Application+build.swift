import Hummingbird
import Shared

/// Metric ingestion, summaries and rate limits.
///
/// The composition root: everything the service runs is made and wired here.
func buildApplication(config: ServiceConfiguration) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: config, dependencies: .init())
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "AnalyticsService"))
    return runtime.makeApplication(router: router)
}
