import Foundation
import Hummingbird

/// What every service's `main.swift` does: build the application from the environment, run
/// it until graceful shutdown, and end the process with a status an operator can act on.
///
/// Top-level code that throws would crash with a backtrace, which hides the one line an
/// operator needs; so a configuration the builder refuses is one line on standard error
/// (`flags: invalid configuration: FLAG_PORT: 0 to 65535, not 70000`) and status 2, and a
/// run that ends early (the port is taken, a dependency refused to start) is logged and
/// status 1.
public enum ServiceMain {
    public static func run<App: ApplicationProtocol>(_ service: String, build: () throws -> App) async {
        let app: App
        do {
            app = try build()
        } catch {
            FileHandle.standardError.write(Data("\(service): invalid configuration: \(error)\n".utf8))
            exit(2)
        }
        do {
            try await app.runService()
        } catch {
            app.logger.critical("service stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
