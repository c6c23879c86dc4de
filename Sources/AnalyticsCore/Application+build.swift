import Hummingbird
import Shared

/// Metric ingestion, summaries and rate limits.
///
/// The composition root: everything the service runs is made and wired here.
public func buildApplication(configuration: AnalyticsConfiguration) throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(configuration: configuration.service)
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "AnalyticsService"))
    return runtime.makeApplication(router: router)
}
