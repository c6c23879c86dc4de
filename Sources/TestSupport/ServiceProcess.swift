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
    public init(executable: String, portVariable: String, port: Int = freePort(), environment: [String: String]) throws {
        self.executable = executable
        self.port = port
        self.logPath = TestEnvironment.tmpdir + "/" + TestEnvironment.unique(executable) + ".log"
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = env["TEST_SERVICE_LOG_LEVEL"] ?? "info"
        for (key, value) in environment { env[key] = value }
        env[portVariable] = String(port)
        let path = Self.binDirectory.appendingPathComponent(executable).path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [strdup(path), nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard result == 0 else { throw Shell.Failure(command: [path], status: result, output: "spawn failed") }
        self.pid = pid
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The exit status once it has exited (128 + signal when killed), nil while running.
    public var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        }
        return status
    }

    public var isRunning: Bool { exitStatus == nil }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits (polling) for the process to exit; returns its status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        _ = await eventually(timeout: timeout) { !self.isRunning }
        return exitStatus
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
