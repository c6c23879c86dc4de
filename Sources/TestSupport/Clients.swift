import Shared

/// Runs `body` with a Redis client that is shut down afterwards, also when `body` throws.
@discardableResult
public func withRedis<T: Sendable>(
    url: String = TestEnvironment.redisURL,
    commandTimeout: Duration = .seconds(2),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let configuration = TestEnvironment.redisConfiguration(url: url, commandTimeout: commandTimeout)
    let client = RedisClient(configuration: configuration, logger: TestEnvironment.logger)
    return try await using(client, shutdown: client.shutdown, body)
}

/// Runs `body` with a client of `server` (a cluster client in a cluster run).
@discardableResult
public func withRedis<T: Sendable>(_ server: PrivateRedis, _ body: (RedisClient) async throws -> T) async throws -> T {
    let client = RedisClient(configuration: server.configuration, logger: TestEnvironment.logger)
    return try await using(client, shutdown: client.shutdown, body)
}

/// Runs `body` with a PostgreSQL client that is shut down afterwards, also when `body` throws;
/// `poolSize` and `statementCache` replace the client's defaults when given.
@discardableResult
public func withPostgres<T: Sendable>(
    url: String = TestEnvironment.databaseURL,
    queryTimeout: Duration = .seconds(5),
    poolSize: Int? = nil,
    statementCache: Int? = nil,
    _ body: (PostgresClient) async throws -> T
) async throws -> T {
    var configuration = TestEnvironment.postgresConfiguration(url: url, queryTimeout: queryTimeout)
    if let poolSize { configuration.poolSize = poolSize }
    if let statementCache { configuration.statementCacheSize = statementCache }
    let client = PostgresClient(configuration: configuration, logger: TestEnvironment.logger)
    return try await using(client, shutdown: client.shutdown, body)
}

private func using<Client, T>(_ client: Client, shutdown: () async -> Void, _ body: (Client) async throws -> T) async throws -> T {
    do {
        let value = try await body(client)
        await shutdown()
        return value
    } catch {
        await shutdown()
        throw error
    }
}
