import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import FlagCore

/// FlagService's routes on its real `buildApplication`, in process, against the run's Redis
/// and a database of the test's own.
@Suite("Flag routes")
struct FlagRouteTests {
    static let adminKey = "flag-route-admin"

    static func application(_ extra: [String: String] = [:]) async throws -> some ApplicationProtocol {
        let database = try await TestEnvironment.freshDatabase("flags")
        let env = TestEnvironment.serviceEnvironment(["DATABASE_URL": database, "ADMIN_API_KEYS": adminKey].merging(extra) { $1 })
        return try buildApplication(configuration: FlagServiceConfiguration(environment: env))
    }

    @Test func writesAreKeyedAndEvaluationsSeeThem() async throws {
        try await Self.application().test(.router) { client in
            try await client.waitUntilReady()
            let body = ByteBuffer(json: ["flag_name": "route_flag", "rollout_percentage": 100])
            #expect(try await client.execute(uri: "/flags", method: .post, body: body).status == .unauthorized)
            let created = try await client.execute(uri: "/flags", method: .post, headers: [.apiKey: Self.adminKey], body: body)
            #expect(created.status == .created)
            #expect(created.headers[.eTag] != nil)
            let read = try await client.execute(uri: "/flags/route_flag", method: .get)
            #expect(read.json?["rollout_percentage"] == 100)
            let evaluation = try await client.execute(uri: "/users/u1/flags/route_flag", method: .get)
            #expect(evaluation.json?["enabled"] == true)
            let invalid = try await client.execute(
                uri: "/flags",
                method: .post,
                headers: [.apiKey: Self.adminKey],
                body: ByteBuffer(json: ["flag_name": "x", "rollout_percentage": 101])
            )
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.json?["field"] == "rollout_percentage")
        }
    }

    /// Access is the matched route's: no spelling of a keyed route gets past its check.
    @Test func noSpellingOfAWriteSkipsTheKey() async throws {
        try await Self.application(["AUTH_FAILURE_LIMIT": "1000000/60"]).test(.router) { client in
            try await client.waitUntilReady()
            for spelling in NonCanonicalPaths.variants(of: "/flags") {
                let response = try await client.execute(
                    uri: spelling,
                    method: .post,
                    body: ByteBuffer(json: ["flag_name": "probe"])
                )
                #expect(!(200..<300).contains(response.status.code), "POST \(spelling) answered \(response.status.code)")
            }
            #expect(try await client.execute(uri: "/flags/probe", method: .get).status == .notFound)
        }
    }
}
