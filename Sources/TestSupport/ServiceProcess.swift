import Foundation

/// One of the suite's real executables, started for an end-to-end test.
///
/// Spawned with posix_spawn and reaped with waitpid, so its exit status is exact.
public final class ServiceProcess: @unchecked Sendable {
    public let executable: String
    public let port: Int
    public let logPath: String
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// The directory holding the built executables: `SUITE_BIN_DIR`, else the directory of
    /// the running test bundle (SwiftPM puts them side by side).
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["SUITE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("ProfileService").path) { return url }
        }
        return URL(fileURLWithPath: ".build/debug")
    }

    /// Starts `executable` listening on a free port, given to it through `portVariable`.
    public convenience init(executable: String, portVariable: String, port: Int = freePort(), environment: [String: String]) throws {
        let path = Self.binDirectory.appendingPathComponent(executable).path
        try self.init(name: executable, arguments: [path], port: port, environment: environment.merging([portVariable: String(port)]) { $1 })
    }

    /// Starts `arguments` (a program and its arguments; `port` is only what it was told to
    /// listen on) with the test's environment plus `environment`.
    public init(name: String, arguments: [String], port: Int, environment: [String: String]) throws {
        self.executable = name
        self.port = port
        self.logPath = TestEnvironment.tmpdir + "/" + TestEnvironment.unique(name) + ".log"
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = env["TEST_SERVICE_LOG_LEVEL"] ?? "info"
        for (key, value) in environment { env[key] = value }
        self.pid = try spawn(arguments, environment: env.map { "\($0.key)=\($0.value)" }, outputPath: logPath, searchPath: true)
    }

    /// The repository's `tools/external_source.py` (AnalyticsService's simulated external
    /// source) on a free port, ready; `baseURL + "/data"` is what the service calls.
    public static func externalSource(failureRate: Double = 0, latencyMilliseconds: Double = 5) async throws -> ServiceProcess {
        try await onFreePort(keeping: nil) { port in
            let arguments = [
                "python3", FileManager.default.currentDirectoryPath + "/tools/external_source.py", "--port", String(port),
                "--failure-rate", String(failureRate), "--latency-ms", String(latencyMilliseconds),
            ]
            let process = try ServiceProcess(name: "external_source", arguments: arguments, port: port, environment: [:])
            if await process.waitReady() { return process }
            process.signal(SIGKILL)
            throw Shell.Failure(command: arguments, status: await process.waitForExit() ?? -1, output: process.log)
        }
    }

    /// Starts `executable` and waits until it answers ready; throws with its log when it does
    /// not. Without a `port` it gets a fresh one, and another fresh one when something took the
    /// port between the probe and the service's bind; a given port (a restart, a port other
    /// services were already told) is tried again as it is.
    public static func start(
        _ executable: String,
        portVariable: String,
        port: Int? = nil,
        environment: [String: String]
    ) async throws -> ServiceProcess {
        try await onFreePort(keeping: port) { port in
            let process = try ServiceProcess(executable: executable, portVariable: portVariable, port: port, environment: environment)
            if await process.waitReady() { return process }
            process.signal(SIGKILL)
            let status = await process.waitForExit() ?? -1
            throw Shell.Failure(command: [executable], status: status, output: "not ready on port \(port):\n\(process.log)")
        }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The exit status once it has exited (128 + signal when killed), nil while running.
    public var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = exitCode(raw)
        }
        return status
    }

    public var isRunning: Bool { exitStatus == nil }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits (polling) for the process to exit; returns its status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        _ = await poll(timeout: timeout) { !self.isRunning }
        return exitStatus
    }

    /// Polls `/health/ready` until it answers 200; false on timeout or when the process exits.
    /// (Refused connections while it starts are expected, so they are not the test's issue.)
    /// The probes close their connections, so a test that counts them finds none left over.
    public func waitReady(timeout: Duration = .seconds(30)) async -> Bool {
        let settled = await poll(timeout: timeout) {
            guard self.isRunning else { return true }
            return try await HTTP.get(self.baseURL + "/health/ready", headers: ["connection": "close"]).status == 200
        }
        return settled.held && isRunning
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
    }
}
