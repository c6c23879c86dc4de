import HummingbirdTesting
import Shared
import StreamCore
import TestSupport
import Testing

/// StreamFilter built in process: the platform's routes answer, PostgreSQL is checked.
@Suite("Stream routes")
struct StreamRouteTests {
    @Test func commonRoutesAnswer() async throws {
        let app = try buildApplication(configuration: StreamConfiguration(environment: TestEnvironment.serviceEnvironment()))
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            let health = try await client.execute(uri: "/health", method: .get).json
            #expect(health?["service"] == "stream")
            #expect(health?["checks"]?["postgres"] == "up")
            #expect(try await client.execute(uri: "/openapi.json", method: .get).json?["info"]?["title"] == "StreamFilter")
            let missing = try await client.execute(uri: "/no/such/route", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func badConfigurationIsAnErrorNotAnExit() throws {
        #expect(throws: ConfigurationError.self) {
            try StreamConfiguration(environment: TestEnvironment.serviceEnvironment(["STREAM_PORT": "70000"]))
        }
    }
}
