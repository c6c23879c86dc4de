import Hummingbird
import Shared

/// Subscriber filters and WebSocket delivery of matching events.
///
/// The composition root: everything the service runs is made and wired here.
public func buildApplication(configuration: StreamConfiguration) throws -> some ApplicationProtocol {
    var runtime = ServiceRuntime(configuration: configuration.service)
    _ = runtime.addPostgres(migrating: Migrator(schema: "streams", migrations: []))
    let router = runtime.makeRouter(openAPI: OpenAPIDocument(title: "StreamFilter"))
    return runtime.makeApplication(router: router)
}
