import Shared

/// Runs `body` with a Redis client that is shut down afterwards, also when `body` throws.
@discardableResult
public func withRedis<T: Sendable>(
    url: String = TestEnvironment.redisURL,
    commandTimeout: Duration = .seconds(2),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(
        configuration: TestEnvironment.redisConfiguration(url: url, commandTimeout: commandTimeout),
        logger: TestEnvironment.logger
    )
    return try await using(client, shutdown: { await $0.shutdown() }, body)
}

/// Runs `body` with a PostgreSQL client that is shut down afterwards, also when `body` throws.
@discardableResult
public func withPostgres<T: Sendable>(
    url: String = TestEnvironment.databaseURL,
    queryTimeout: Duration = .seconds(5),
    _ body: (PostgresClient) async throws -> T
) async throws -> T {
    let client = PostgresClient(
        configuration: TestEnvironment.postgresConfiguration(url: url, queryTimeout: queryTimeout),
        logger: TestEnvironment.logger
    )
    return try await using(client, shutdown: { await $0.shutdown() }, body)
}

private func using<Client, T>(_ client: Client, shutdown: (Client) async -> Void, _ body: (Client) async throws -> T) async throws -> T {
    do {
        let value = try await body(client)
        await shutdown(client)
        return value
    } catch {
        await shutdown(client)
        throw error
    }
}
