import Foundation

/// A PostgreSQL server of one test's own, cloned from the run's initialized template.
public final class PrivatePostgres: Sendable {
    public let port: Int
    public let directory: String
    public var url: String { TestEnvironment.postgresURL(port: port) }

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    public static func start() async throws -> PrivatePostgres {
        let directory = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("pg")
        if let template = TestEnvironment.pgTemplate {
            try await Shell.infra("pg-clone", template, directory)
        } else {
            try await Shell.infra("pg-init", directory, "throwaway")
        }
        return try await onFreePort { port in
            let server = PrivatePostgres(port: port, directory: directory)
            try await server.start()
            return server
        }
    }

    public func start() async throws {
        try await Shell.infra("pg-start", directory, String(port))
    }

    public func stop(mode: String = "fast") async throws {
        try await Shell.infra("pg-stop", directory, mode)
    }
}
