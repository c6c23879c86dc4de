import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Runs the service's migrations at start-up, retrying with backoff while PostgreSQL is not
/// there yet, so the process starts (and answers `/health/live`) either way and becomes ready
/// once its schema is in place.
public final class MigrationService: Service, Sendable {
    private let migrator: Migrator
    private let client: PostgresClient
    private let logger: Logger
    private let done = NIOLockedValueBox(false)

    public init(migrator: Migrator, client: PostgresClient, logger: Logger) {
        self.migrator = migrator
        self.client = client
        self.logger = logger
    }

    public var isComplete: Bool { done.withLockedValue { $0 } }

    public func run() async throws {
        await retryUntilDone(logger: logger, "migrations not applied yet", metadata: ["postgres.schema": "\(migrator.schema)"]) {
            try await migrator.migrate(client, logger: logger)
            done.withLockedValue { $0 = true }
        }
        try? await gracefulShutdown()
    }

    /// The readiness check: PostgreSQL answers and the schema is migrated.
    public func healthCheck(required: Bool = true) -> HealthCheck {
        HealthCheck(name: "postgres", required: required) { [self] in
            try await client.query("SELECT 1")
            guard isComplete else {
                throw DependencyUnavailableError(dependency: "postgres", reason: "migrations pending")
            }
        }
    }
}
