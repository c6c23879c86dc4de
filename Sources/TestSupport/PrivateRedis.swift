import Foundation

/// A Redis server of one test's own, for tests that stop, freeze or restart it.
public final class PrivateRedis: Sendable {
    public let port: Int
    public let directory: String
    public var url: String { TestEnvironment.redisURL(port: port) }

    /// Extra redis-server options, the same at every start.
    private let options: [String]

    private init(port: Int, directory: String, options: [String]) {
        self.port = port
        self.directory = directory
        self.options = options
    }

    /// - Parameter durable: an append-only file synced on every write, so a stop and start
    ///   keeps every acknowledged write (the suite's test servers keep nothing otherwise).
    public static func start(durable: Bool = false) async throws -> PrivateRedis {
        let options = durable ? ["--appendonly", "yes", "--appendfsync", "always"] : []
        return try await onFreePort { port in
            let server = PrivateRedis(port: port, directory: TestEnvironment.tmpdir + "/" + TestEnvironment.unique("redis"), options: options)
            try await server.start()
            return server
        }
    }

    public func start() async throws {
        try await Shell.run(["bash", TestEnvironment.infraScript, "redis-start", directory, String(port)] + options)
    }

    public func stop() async throws {
        try await Shell.infra("redis-stop", directory, String(port))
    }

    /// SIGSTOP: the server keeps its socket (connections are accepted) but never answers.
    public func freeze() async throws {
        try await Shell.run(["kill", "-STOP", try pid()])
    }

    public func thaw() async throws {
        try await Shell.run(["kill", "-CONT", try pid()])
    }

    private func pid() throws -> String {
        try String(contentsOfFile: "\(directory)/redis-\(port).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
