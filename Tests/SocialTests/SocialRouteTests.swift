import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import TestSupport
import Testing

@testable import SocialCore

/// The three services' routes, each built in process by its real builder against the run's
/// Redis and a database of the test's own; Post and Feed reach a live Profile built the same
/// way, on a Redis of their own: Post's breaker follows `health.profile`, where other tests'
/// Profiles announce themselves going down.
@Suite("Social routes", .teardown)
struct SocialRouteTests {
    static func configuration(
        _ service: SocialConfiguration.Service,
        database: String,
        profilePort: Int? = nil,
        redis: PrivateRedis? = nil
    ) throws -> SocialConfiguration {
        var extra = ["DATABASE_URL": database]
        if let redis { extra.merge(redis.environment) { $1 } }
        if let profilePort {
            extra["PROFILE_URL"] = "http://127.0.0.1:\(profilePort)"
            // Routes, not deadlines: a loaded parallel pass once took longer than the default
            // 800 ms to ask Profile about a stranger, and Post said it could not verify him.
            extra["PROFILE_TIMEOUT_MS"] = "5000"
        }
        return try SocialConfiguration(service, environment: TestEnvironment.serviceEnvironment(extra))
    }

    @Test func profileCreatesReadsAndRefuses() async throws {
        let database = try await TestEnvironment.freshDatabase("social")
        try await buildProfileApplication(configuration: Self.configuration(.profile, database: database)).test(.router) { client in
            try await client.waitUntilReady()
            let created = try await client.execute(uri: "/insert_new_user", method: .post, body: ByteBuffer(json: ["user_name": "  ann  "]))
            #expect(created.status == .created)
            #expect(created.json?["user_name"] == "ann")
            let id = try #require(created.json?["user_id"]?.double)

            let read = try await client.execute(uri: "/get_user_info?user_id=\(Int(id))", method: .get)
            #expect(read.status == .ok)
            #expect(read.json == created.json)
            #expect(try await client.execute(uri: "/get_user_info?user_id=\(Int(id) + 1000)", method: .get).status == .notFound)

            let invalid = try await client.execute(uri: "/get_user_info?user_id=-1", method: .get)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.json?["field"] == "user_id")
            let unnamed = try await client.execute(uri: "/insert_new_user", method: .post, body: ByteBuffer(json: ["user_name": " "]))
            #expect(unnamed.status == .unprocessableContent)
            #expect(unnamed.json?["field"] == "user_name")
            #expect(try await client.execute(uri: "/insert_new_user", method: .post, body: ByteBuffer(string: "{")).status == .badRequest)
        }
    }

    @Test func postAndFeedWorkAgainstALiveProfile() async throws {
        let database = try await TestEnvironment.freshDatabase("social")
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        try await buildProfileApplication(configuration: Self.configuration(.profile, database: database, redis: redis)).test(.live) { profile in
            try await profile.waitUntilReady()
            let created = try await profile.execute(uri: "/insert_new_user", method: .post, body: ByteBuffer(json: ["user_name": "bo"]))
            let user = try #require(created.json?["user_id"]?.double)
            let port = try #require(profile.port)

            let post = try buildPostApplication(configuration: Self.configuration(.post, database: database, profilePort: port, redis: redis))
            let posts = try await post.test(.router) { client -> [Double] in
                try await client.waitUntilReady()
                var posts: [Double] = []
                for title in ["first", "second"] {
                    let response = try await client.execute(
                        uri: "/insert_post",
                        method: .post,
                        body: ByteBuffer(json: ["user_id": .number(user), "title": .string(title), "content": "text"])
                    )
                    #expect(response.status == .created)
                    posts.append(try #require(response.json?["post_id"]?.double))
                }
                let read = try await client.execute(uri: "/get_post_info?post_id=\(Int(posts[0]))", method: .get).json
                #expect(read?["title"] == "first")
                #expect(read?["user_name"] == "bo")
                #expect(read?["profile_source"] == "live")
                let stranger = try await client.execute(
                    uri: "/insert_post",
                    method: .post,
                    body: ByteBuffer(json: ["user_id": .number(user + 1000), "title": "t", "content": ""])
                )
                #expect(stranger.status == .unprocessableContent)
                #expect(stranger.json?["field"] == "user_id")
                return posts
            }

            let feed = try buildFeedApplication(configuration: Self.configuration(.feed, database: database, profilePort: port, redis: redis))
            try await feed.test(.router) { client in
                try await client.waitUntilReady()
                // The older post up twice, so it ranks above the newer one.
                for _ in 0..<2 {
                    let response = try await client.execute(
                        uri: "/submit_impression",
                        method: .post,
                        body: ByteBuffer(json: ["post_id": .number(posts[0]), "user_id": .number(user), "impression_type": "UP"])
                    )
                    #expect(response.status == .created)
                }
                guard case .array(let ranked)? = try await client.execute(uri: "/fetch_feed", method: .get).json?["top_posts"] else {
                    Issue.record("no top_posts")
                    return
                }
                #expect(ranked.map { $0["post_id"] } == [.number(posts[0]), .number(posts[1])])
                #expect(ranked.map { $0["score"] } == [2, 0])
                let trending = try await client.execute(uri: "/get_trending_user_info", method: .get).json
                guard case .array(let users)? = trending?["trending_users"] else {
                    Issue.record("no trending_users")
                    return
                }
                #expect(users.map { [$0["user_id"], $0["user_name"]] } == [[.number(user), "bo"]])
                #expect(trending?["profile_source"] == "live")
                let wrong = try await client.execute(
                    uri: "/submit_impression",
                    method: .post,
                    body: ByteBuffer(json: ["post_id": .number(posts[0]), "user_id": .number(user), "impression_type": "SIDEWAYS"])
                )
                #expect(wrong.status == .unprocessableContent)
                #expect(wrong.json?["field"] == "impression_type")
            }
        }
    }

    /// One grapheme cluster may hold any number of combining scalars: bytes are bounded too.
    @Test func textIsBoundedInBytesAsWellAsCharacters() throws {
        let oneCharacter = "e" + String(repeating: "\u{301}", count: 200_000)
        #expect(oneCharacter.count == 1)
        #expect(throws: ProblemDetails.self) { try Validate.text(oneCharacter, field: "user_name", maximum: 100) }
        #expect(try Validate.text(String(repeating: "é", count: 100), field: "user_name", maximum: 100).count == 100)
        #expect(throws: ProblemDetails.self) { try Validate.text(String(repeating: "a", count: 101), field: "user_name", maximum: 100) }
    }
}

/// Profile as its callers see it, with a Redis of the test's own (other tests' Profiles
/// heartbeat on the run's Redis, and Post's breaker listens to the registry). Exclusive (run
/// alone, after the parallel pass): a slow call must stay under its timeout, which a machine
/// busy with the rest of the suite can stretch.
@Suite("Exclusive social routes, Profile behaviour", .teardown)
struct ExclusiveSocialProfileBehaviourTests {
    static func configuration(
        _ service: SocialConfiguration.Service,
        database: String,
        redis: PrivateRedis,
        _ extra: [String: String] = [:]
    ) throws
        -> SocialConfiguration
    {
        try SocialConfiguration(
            service,
            environment: TestEnvironment.serviceEnvironment(["DATABASE_URL": database, "REDIS_URL": redis.url].merging(extra) { $1 })
        )
    }

    @Test func profileSeedsTheCacheWhenAUserIsCreated() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let database = try await TestEnvironment.freshDatabase("social")
        try await buildProfileApplication(configuration: Self.configuration(.profile, database: database, redis: redis)).test(.router) { client in
            try await client.waitUntilReady()
            let created = try await client.execute(uri: "/insert_new_user", method: .post, body: ByteBuffer(json: ["user_name": "seeded"]))
            let id = try #require(created.json?["user_id"]?.double)
            // Before anyone has read it: an outage right after the insert still has this user.
            let cached = try await withRedis(url: redis.url) { try await $0.get("social:profile:\(Int(id))") }
            let json = try JSONValue.parse(Data(try #require(cached, "no cache entry after the insert")))
            #expect(json["user_name"] == "seeded")
        }
    }

    /// A Profile that answers correctly but slowly (1.1 s, against a 2 s timeout whose half is
    /// the slow-call limit): every call succeeds, and the slow calls alone open the breaker,
    /// which Post's `/health` and metrics show.
    @Test func slowButSuccessfulProfileCallsOpenTheBreakerAsSlow() async throws {
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let database = try await TestEnvironment.freshDatabase("social")
        let router = Router()
        router.get("/get_user_info") { _, _ -> Response in
            try await Task.sleep(for: .milliseconds(1100))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(json: ["user_id": 1, "user_name": "slow"]))
            )
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { profile in
            let post = try buildPostApplication(
                configuration: Self.configuration(
                    .post,
                    database: database,
                    redis: redis,
                    ["PROFILE_URL": "http://127.0.0.1:\(try #require(profile.port))", "PROFILE_TIMEOUT_MS": "2000"]
                )
            )
            try await post.test(.router) { client in
                try await client.waitUntilReady()
                #expect(try await client.execute(uri: "/health", method: .get).json?["checks"]?["profile"] == "up")
                var statuses: [Int] = []
                for _ in 0..<5 {
                    let body = ByteBuffer(json: ["user_id": 1, "title": "t", "content": "c"])
                    statuses.append(Int(try await client.execute(uri: "/insert_post", method: .post, body: body).status.code))
                }
                #expect(statuses == [201, 201, 201, 201, 201], "every slow call succeeded")
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"breaker_state{caller="post",dependency="profile"} 2"#), "\(metrics)")
                // Health is evaluated every interval: the next report says so.
                #expect(
                    await eventually {
                        let health = try await client.execute(uri: "/health", method: .get).json
                        return health?["checks"]?["profile"] == "down" && health?["status"] == "degraded"
                    }
                )
            }
        }
    }
}
