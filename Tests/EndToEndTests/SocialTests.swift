import Foundation
import Shared
import TestSupport
import Testing

/// Drives the trio's public API.
struct SocialClient: Sendable {
    let cluster: SocialCluster

    func createUser(_ name: String) async throws -> Int64 {
        let response = try await HTTP.post(cluster.profile.baseURL + "/insert_new_user", json: json(["user_name": .string(name)]))
        #expect(response.status == 201, "\(response.text)")
        return Int64(try #require(response.json?["user_id"].flatMap(number)))
    }

    func createPost(user: Int64, title: String = "title", content: String = "content") async throws -> Int64 {
        let response = try await HTTP.post(
            cluster.post.baseURL + "/insert_post",
            json: json([
                "user_id": .number(Double(user)), "title": .string(title), "content": .string(content),
            ])
        )
        #expect(response.status == 201, "\(response.text)")
        return Int64(try #require(response.json?["post_id"].flatMap(number)))
    }

    /// - Parameter timeout: includes the wait for one of the test client's connections.
    func impression(post: Int64, user: Int64, _ type: String, timeout: Duration = .seconds(5)) async throws -> HTTP.Result {
        try await HTTP.post(
            cluster.feed.baseURL + "/submit_impression",
            json: json([
                "post_id": .number(Double(post)), "user_id": .number(Double(user)), "impression_type": .string(type),
            ]),
            timeout: timeout
        )
    }

    func postInfo(_ post: Int64) async throws -> HTTP.Result {
        try await HTTP.get(cluster.post.baseURL + "/get_post_info?post_id=\(post)")
    }

    func trending() async throws -> HTTP.Result {
        try await HTTP.get(cluster.feed.baseURL + "/get_trending_user_info")
    }

    func json(_ object: [String: JSONValue]) -> String {
        String(decoding: try! JSONEncoder().encode(JSONValue.object(object)), as: UTF8.self)
    }
}

func number(_ value: JSONValue) -> Double? {
    if case .number(let n) = value { return n }
    return nil
}

/// `key` of every object in the array `list`; nil when `list` is not an array.
func numbers(_ list: JSONValue?, _ key: String) -> [Double]? {
    guard case .array(let items)? = list else { return nil }
    return items.compactMap { $0[key].flatMap(number) }
}

@Suite("Social services", .teardown)
struct SocialTests {
    @Test func theFixedContractsWork() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("ann")
        let profile = try await HTTP.get(cluster.profile.baseURL + "/get_user_info?user_id=\(user)")
        #expect(profile.status == 200)
        #expect(profile.json?["user_name"] == "ann")
        #expect(try await HTTP.get(cluster.profile.baseURL + "/get_user_info?user_id=999999999").status == 404)

        let post = try await api.createPost(user: user, title: "hello", content: "world")
        let info = try await api.postInfo(post)
        #expect(info.status == 200)
        #expect(info.json?["title"] == "hello")
        #expect(info.json?["author"]?["user_name"] == "ann")
        #expect(info.json?["profile_source"] == "live")
        #expect(info.header("x-fallback") == nil)

        let up = try await api.impression(post: post, user: user, "UP")
        #expect(up.status == 201)
        #expect(up.json?["score"] == 1)
        let feed = try await HTTP.get(cluster.feed.baseURL + "/fetch_feed")
        #expect(feed.status == 200)
        #expect(numbers(feed.json?["top_posts"], "post_id") == [Double(post)], "\(feed.text)")
        let trending = try await api.trending()
        #expect(trending.status == 200)
        #expect(numbers(trending.json?["trending_users"], "user_id") == [Double(user)], "\(trending.text)")
    }

    /// Fourteen posts by four authors with scores the test sets: the feed is the top 10 by
    /// score, newest (highest id) first among equals, cut inside a tie; trending is the
    /// distinct authors of those 10, in rank order. The expectation is computed here from the
    /// plan, not read from the service.
    @Test func theFeedIsTheTopTenAndTrendingIsTheirAuthors() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let names = ["ann", "bob", "cy", "dee"]
        var users: [Int64] = []
        for name in names { users.append(try await api.createUser(name)) }
        // (author index, score): dee's posts are the oldest zero and the two negatives, so
        // none of them reaches the top 10 and dee is not trending.
        let plan: [(author: Int, score: Int)] = [
            (3, 0), (0, 3), (1, 0), (3, -1), (2, 2), (0, 5), (1, 0), (2, 1),
            (1, 2), (0, 0), (2, 4), (3, -2), (1, 1), (0, 2),
        ]
        var posts: [(id: Int64, author: Int, score: Int)] = []
        for (index, entry) in plan.enumerated() {
            let id = try await api.createPost(user: users[entry.author], title: "p\(index)")
            posts.append((id, entry.author, entry.score))
        }
        let voter = users[0]
        for post in posts {
            // A zero that has impressions (one up, one down) ranks like one without any.
            if post.score == 0 && post.author == 1 {
                #expect(try await api.impression(post: post.id, user: voter, "UP").status == 201)
                #expect(try await api.impression(post: post.id, user: voter, "DOWN").status == 201)
            }
            for _ in 0..<abs(post.score) {
                #expect(try await api.impression(post: post.id, user: voter, post.score > 0 ? "UP" : "DOWN").status == 201)
            }
        }
        let expected = posts.sorted { ($0.score, $0.id) > ($1.score, $1.id) }.prefix(10)
        #expect(expected.contains { $0.score == 0 } && posts.filter { $0.score == 0 }.count > expected.filter { $0.score == 0 }.count)

        let feed = try await HTTP.get(cluster.feed.baseURL + "/fetch_feed")
        #expect(feed.status == 200)
        let top = feed.json?["top_posts"]
        #expect(numbers(top, "post_id") == expected.map { Double($0.id) }, "\(feed.text)")
        #expect(numbers(top, "score") == expected.map { Double($0.score) })
        #expect(numbers(top, "user_id") == expected.map { Double(users[$0.author]) })

        var authors: [Int] = []
        for post in expected where !authors.contains(post.author) { authors.append(post.author) }
        #expect(authors == [0, 2, 1])
        let trending = try await api.trending()
        #expect(trending.status == 200)
        guard case .array(let trendingUsers)? = trending.json?["trending_users"] else {
            Issue.record("no trending_users: \(trending.text)")
            return
        }
        #expect(numbers(trending.json?["trending_users"], "user_id") == authors.map { Double(users[$0]) }, "\(trending.text)")
        #expect(trendingUsers.compactMap { $0["user_name"] } == authors.map { .string(names[$0]) })
    }

    @Test func concurrentImpressionsAddUpExactly() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("voter")
        let post = try await api.createPost(user: user)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                // 200 at once through 8 connections, all updating one row: on a busy machine the
                // last waits long; this test is about the sum, not the time.
                group.addTask { try await api.impression(post: post, user: user, index % 4 == 0 ? "DOWN" : "UP", timeout: .seconds(60)).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 201 })
        // 150 UP, 50 DOWN: +100, and exactly 200 impression rows.
        try await withPostgres(url: cluster.databaseURL) { pg in
            let score = try await pg.query("SELECT score FROM social.scores WHERE post_id = $1", [post]).first?.decode("score", as: Int.self)
            #expect(score == 100)
            let rows = try await pg.query("SELECT count(*) AS c FROM social.impressions WHERE post_id = $1", [post]).first?.decode("c", as: Int.self)
            #expect(rows == 200)
        }
    }

    @Test func hostileInputGetsClear4xxAndLeavesDataIntact() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("'; DROP TABLE social.users; --")
        let post = try await api.createPost(user: user, title: "Robert'); DELETE FROM social.posts;--", content: "\u{0001}\n\"quoted\" ünï")
        let info = try await api.postInfo(post)
        #expect(info.json?["title"] == "Robert'); DELETE FROM social.posts;--")
        #expect(info.json?["content"] == "\u{0001}\n\"quoted\" ünï")
        #expect(info.json?["author"]?["user_name"] == "'; DROP TABLE social.users; --")

        func expectProblem(_ response: HTTP.Result, _ status: Int, field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
            #expect(response.header("content-type") == "application/problem+json", sourceLocation: sourceLocation)
            if let field { #expect(response.json?["field"] == .string(field), "\(response.text)", sourceLocation: sourceLocation) }
        }
        let profile = cluster.profile.baseURL
        let posts = cluster.post.baseURL
        let feed = cluster.feed.baseURL
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: "{\"user_name\": "), 400)
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: "[1, 2]"), 400)
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: "{}"), 422, field: "user_name")
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: "{\"user_name\": 42}"), 422, field: "user_name")
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: "{\"user_name\": \"   \"}"), 422, field: "user_name")
        expectProblem(
            try await HTTP.post(profile + "/insert_new_user", json: "{\"user_name\": \"\(String(repeating: "x", count: 101))\"}"),
            422,
            field: "user_name"
        )
        let huge = "{\"user_name\": \"" + String(repeating: "x", count: 2 << 20) + "\"}"
        expectProblem(try await HTTP.post(profile + "/insert_new_user", json: huge), 413)
        expectProblem(try await HTTP.get(profile + "/get_user_info?user_id=1%20OR%201=1"), 422, field: "user_id")
        expectProblem(try await HTTP.get(profile + "/get_user_info"), 422, field: "user_id")
        expectProblem(try await HTTP.get(profile + "/get_user_info?user_id=-3"), 422, field: "user_id")

        expectProblem(
            try await HTTP.post(posts + "/insert_post", json: "{\"user_id\": \"\(user)\", \"title\": \"t\", \"content\": \"c\"}"),
            422,
            field: "user_id"
        )
        expectProblem(try await HTTP.post(posts + "/insert_post", json: "{\"user_id\": \(user), \"content\": \"c\"}"), 422, field: "title")
        expectProblem(
            try await HTTP.post(posts + "/insert_post", json: "{\"user_id\": 999999999, \"title\": \"t\", \"content\": \"c\"}"),
            422,
            field: "user_id"
        )
        expectProblem(try await HTTP.get(posts + "/get_post_info?post_id=999999999"), 404)
        expectProblem(try await HTTP.get(posts + "/get_post_info?post_id=abc"), 422, field: "post_id")

        expectProblem(try await api.impression(post: post, user: user, "SIDEWAYS"), 422, field: "impression_type")
        expectProblem(try await api.impression(post: post, user: user, "up"), 422, field: "impression_type")
        expectProblem(try await api.impression(post: 999_999_999, user: user, "UP"), 422, field: "post_id")
        expectProblem(try await api.impression(post: post, user: 999_999_999, "UP"), 422, field: "user_id")
        expectProblem(
            try await HTTP.post(feed + "/submit_impression", json: "{\"post_id\": \(post), \"user_id\": \(user), \"impression_type\": null}"),
            422,
            field: "impression_type"
        )

        // Everything is still there, and the services are still up.
        #expect(try await api.postInfo(post).status == 200)
        for service in [cluster.profile, cluster.post, cluster.feed] {
            #expect(service.isRunning)
            #expect(try await HTTP.get(service.baseURL + "/health/ready").status == 200)
        }
    }
}
