import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import RestrictionCore

/// RestrictionConsumer's routes on its real `buildApplication`, in process, with its
/// consumer, against the run's Redis under a stream of the test's own.
@Suite("Restriction routes")
struct RestrictionRouteTests {
    static let adminKey = "restriction-route-admin"

    @Test func anIngestedEventIsAppliedAndItsInsightsAreKeyed() async throws {
        let env = TestEnvironment.serviceEnvironment([
            "ADMIN_API_KEYS": Self.adminKey,
            "RESTRICTIONS_STREAM": TestEnvironment.unique("restrictions:routes"),
            "TRIPWIRE_MIN_USERS": "1000000",
            "AUTH_FAILURE_LIMIT": "1000000/60",
        ])
        let user = TestEnvironment.unique("route_user")
        try await buildApplication(configuration: RestrictionConfiguration(environment: env)).test(.router) { client in
            try await client.waitUntilReady()
            for _ in 0..<2 {
                let event: JSONValue = ["name": "scam_message_flagged", "event_properties": ["user_id": .string(user)]]
                let response = try await client.execute(uri: "/event", method: .post, body: ByteBuffer(json: event))
                #expect(response.status == .ok)
                #expect(response.json?["stream_id"] != nil)
            }
            let restricted = await eventually(timeout: .seconds(20)) {
                try await client.execute(uri: "/canmessage?user_id=\(user)", method: .get).json?["can_message"] == false
            }
            #expect(restricted, "two scam flags did not take messaging")

            let insights = "/users/\(user)/restrictions"
            #expect(try await client.execute(uri: insights, method: .get).status == .unauthorized)
            for spelling in NonCanonicalPaths.variants(of: insights) {
                let code = try await client.execute(uri: spelling, method: .get).status.code
                #expect(!(200..<300).contains(code), "GET \(spelling) answered \(code) without a key")
            }
            let keyed = try await client.execute(uri: insights, method: .get, headers: [.apiKey: Self.adminKey])
            #expect(keyed.json?["events_applied"] == 2)
            #expect(keyed.json?["can_message"] == false)

            let unknown = try await client.execute(uri: "/event", method: .post, body: ByteBuffer(json: ["name": "no_such_event"]))
            #expect(unknown.status == .unprocessableContent)
        }
    }
}
