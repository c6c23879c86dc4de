import HummingbirdTesting
import NIOCore
import Shared

extension TestClientProtocol {
    /// Polls `/health/ready` until it answers 200: services start concurrently with the test
    /// client, so a route that needs migrated tables may only be asked once they are.
    public func waitUntilReady(timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await execute(uri: "/health/ready", method: .get).status != .ok {
            guard ContinuousClock.now < deadline else { throw ReadinessTimeout() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A service built in process did not become ready in time.
public struct ReadinessTimeout: Error {}

extension TestResponse {
    /// The body as JSON; nil when it is not.
    public var json: JSONValue? { try? JSONValue.parse(body) }
}

extension ByteBuffer {
    /// `value` written as a JSON body.
    public init(json value: JSONValue) {
        var writer = JSONWriter()
        writer.value(value)
        self = writer.buffer
    }
}
