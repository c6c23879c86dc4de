import ServiceLifecycle

/// A client over a ``BlockingConnectionPool`` (Redis, PostgreSQL): a `Service` that lives
/// until graceful shutdown and then closes its pool, so in-flight calls finish first.
public protocol PooledClient: Service {
    associatedtype Connection: BlockingConnection
    var pool: BlockingConnectionPool<Connection> { get }
}

extension PooledClient {
    public func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown()
    }

    /// Closes the pool now, for clients used outside a service group (tools, tests).
    public func shutdown() async {
        await pool.shutdown()
    }

    public var poolUsage: BlockingConnectionPool<Connection>.Usage { pool.usage }
}
