import Foundation

extension ServiceProcess {
    /// Starts one `executable` per environment at once, each waiting until ready; the
    /// processes in the order of `environments`.
    public static func startAll(_ executable: String, portVariable: String, environments: [[String: String]]) async throws -> [ServiceProcess] {
        try await withThrowingTaskGroup(of: (Int, ServiceProcess).self) { group in
            for (index, environment) in environments.enumerated() {
                group.addTask { (index, try await start(executable, portVariable: portVariable, environment: environment)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    /// Graceful shutdown of `processes` together: SIGCONT (a test may have frozen one), then
    /// SIGTERM to all, and SIGKILL for any still running after 10 s.
    public static func stopAll(_ processes: [ServiceProcess]) async {
        for process in processes {
            process.signal(SIGCONT)
            process.signal(SIGTERM)
        }
        for process in processes where await process.waitForExit(timeout: .seconds(10)) == nil {
            process.signal(SIGKILL)
        }
    }
}
