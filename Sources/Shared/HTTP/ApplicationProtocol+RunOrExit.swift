import Foundation
import Hummingbird
import Logging

extension ApplicationProtocol {
    /// Runs the application until graceful shutdown. A failure that ends it early (the port
    /// is taken, a dependency refused to start) is logged and ends the process with status 1:
    /// an error thrown from top-level code would crash with a backtrace instead, which hides
    /// the one line an operator needs.
    public func runServiceOrExit() async {
        do {
            try await self.runService()
        } catch {
            self.logger.critical("service stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
