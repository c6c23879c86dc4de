import Shared

/// Runs `body` with a Redis client that is shut down afterwards, also when `body` throws.
@discardableResult
public func withRedis<T: Sendable>(
    url: String = TestEnvironment.redisURL,
    commandTimeout: Duration = .seconds(2),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let configuration = TestEnvironment.redisConfiguration(url: url, commandTimeout: commandTimeout)
    return try await using(RedisClient(configuration: configuration, logger: TestEnvironment.logger), body)
}

/// Runs `body` with a PostgreSQL client that is shut down afterwards, also when `body` throws.
@discardableResult
public func withPostgres<T: Sendable>(
    url: String = TestEnvironment.databaseURL,
    queryTimeout: Duration = .seconds(5),
    _ body: (PostgresClient) async throws -> T
) async throws -> T {
    let configuration = TestEnvironment.postgresConfiguration(url: url, queryTimeout: queryTimeout)
    return try await using(PostgresClient(configuration: configuration, logger: TestEnvironment.logger), body)
}

private func using<Client: PooledClient, T>(_ client: Client, _ body: (Client) async throws -> T) async throws -> T {
    do {
        let value = try await body(client)
        await client.shutdown()
        return value
    } catch {
        await client.shutdown()
        throw error
    }
}
