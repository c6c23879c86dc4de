import AnalyticsCore
import HummingbirdTesting
import Shared
import TestSupport
import Testing

/// AnalyticsService built in process: the platform's routes answer.
@Suite("Analytics routes")
struct AnalyticsRouteTests {
    @Test func commonRoutesAnswer() async throws {
        let app = try buildApplication(configuration: AnalyticsConfiguration(environment: TestEnvironment.serviceEnvironment()))
        try await app.test(.router) { client in
            try await client.waitUntilReady()
            #expect(try await client.execute(uri: "/health", method: .get).json?["service"] == "analytics")
            #expect(try await client.execute(uri: "/openapi.json", method: .get).json?["info"]?["title"] == "AnalyticsService")
            #expect(try await client.execute(uri: "/no/such/route", method: .get).status == .notFound)
        }
    }

    @Test func badConfigurationIsAnErrorNotAnExit() throws {
        #expect(throws: ConfigurationError.self) {
            try AnalyticsConfiguration(environment: TestEnvironment.serviceEnvironment(["HEALTH_INTERVAL_MS": "1"]))
        }
    }
}
