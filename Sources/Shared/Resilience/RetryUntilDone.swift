import Logging
import ServiceLifecycle

/// Runs `body` until it succeeds or the service shuts down, with backoff between attempts:
/// start-up work a service cannot be ready without (migrations, a first load). Failures are
/// logged on the first attempt and every 20th, not on each. Returns whether it succeeded.
@discardableResult
public func retryUntilDone(
    backoff: Backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2)),
    logger: Logger,
    _ message: Logger.Message,
    metadata: Logger.Metadata = [:],
    _ body: () async throws -> Void
) async -> Bool {
    var attempt = 0
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        do {
            try await body()
            return true
        } catch {
            attempt += 1
            if attempt == 1 || attempt % 20 == 0 {
                logger.warning(message, metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
            try? await Task.sleep(for: backoff.delay(attempt: attempt))
        }
    }
    return false
}
