import AsyncHTTPClient
import NIOCore
import ServiceLifecycle

/// Owns the service's outgoing HTTP client (pooled keep-alive connections) and shuts it
/// down on graceful shutdown, after the server has finished its requests.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient = HTTPClientService.suiteClient()) {
        self.client = client
    }

    /// A client for calls to the suite's services: idle pooled connections are dropped after
    /// 30 s, under the services' own keep-alive timeout (``ConnectionLimits``, 60 s), so a
    /// request is never sent on a connection the server is closing.
    public static func suiteClient() -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: pooledIdleTimeout)))
    }

    /// How long the suite's clients keep an idle connection.
    public static let pooledIdleTimeout: TimeAmount = .seconds(30)

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
