import AsyncHTTPClient
import ServiceLifecycle

/// Owns the service's outgoing HTTP client (pooled keep-alive connections) and shuts it
/// down on graceful shutdown, after the server has finished its requests.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient = HTTPClient(eventLoopGroupProvider: .singleton)) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
