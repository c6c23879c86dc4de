import Foundation

/// One of the suite's real executables, started for an end-to-end test.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    public let logPath: String
    private let process: Process

    /// The directory holding the built executables (next to the test bundle).
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["SUITE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("ProfileService").path) { return url }
        }
        return URL(fileURLWithPath: ".build/debug")
    }

    /// Starts `executable` listening on a free port (set through `portVariable`).
    public init(executable: String, portVariable: String, environment: [String: String]) throws {
        self.name = executable
        self.port = freePort()
        self.logPath = TestEnvironment.tmpdir + "/" + TestEnvironment.unique(executable) + ".log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(executable)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        env[portVariable] = String(port)
        process.environment = env
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
