import Foundation
import NIOConcurrencyHelpers
import Shared
import TestSupport
import Testing

/// Requests sent in a loop while a fault is injected, with what each one got.
final class Traffic: Sendable {
    struct Sample: Sendable {
        let service: String
        let startedAt: ContinuousClock.Instant
        let status: Int
        let fallback: Bool
        let elapsed: Duration
        let body: JSONValue?
    }

    private let samples = NIOLockedValueBox<[Sample]>([])
    private let running = NIOLockedValueBox(true)
    private let tasks: [Task<Void, Never>]

    /// `workers` loops per target, each sending one request after the other.
    init(workers: Int = 2, targets: [(service: String, url: String)]) {
        var tasks: [Task<Void, Never>] = []
        for target in targets {
            for _ in 0..<workers {
                tasks.append(
                    Task { [samples, running] in
                        while running.withLockedValue({ $0 }) {
                            let start = ContinuousClock.now
                            let sample: Sample
                            do {
                                let response = try await HTTP.get(target.url, timeout: .seconds(10))
                                sample = Sample(
                                    service: target.service,
                                    startedAt: start,
                                    status: response.status,
                                    fallback: response.header("x-fallback") == "cache",
                                    elapsed: response.elapsed,
                                    body: response.json
                                )
                            } catch {
                                sample = Sample(
                                    service: target.service,
                                    startedAt: start,
                                    status: -1,
                                    fallback: false,
                                    elapsed: ContinuousClock.now - start,
                                    body: nil
                                )
                            }
                            samples.withLockedValue { $0.append(sample) }
                        }
                    }
                )
            }
        }
        self.tasks = tasks
    }

    func stop() async {
        running.withLockedValue { $0 = false }
        for task in tasks { await task.value }
    }

    var all: [Sample] { samples.withLockedValue { $0 } }

    func since(_ instant: ContinuousClock.Instant) -> [Sample] { all.filter { $0.startedAt >= instant } }
}

/// Reads one sample (`name{labels…}`, labels in the order the service declares them) from a
/// service's /metrics; nil when it has none.
func metric(_ service: ServiceProcess, _ prefix: String) async throws -> Double? {
    let text = try await HTTP.get(service.baseURL + "/metrics").text
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
    return Double(line.split(separator: " ").last ?? "")
}

/// Fault tests with timing bounds: run in the serial "Exclusive" pass of scripts/test.sh.
@Suite("Exclusive social faults", .teardown)
struct ExclusiveSocialFaultTests {
    @Test func profileKilledDuringTraffic() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("known")
        let post = try await api.createPost(user: user)
        // A post whose author Profile has never heard of: null fields, never an error.
        let orphan = try await withPostgres(url: cluster.databaseURL) { pg in
            try await pg.query("INSERT INTO social.posts (user_id, title, content) VALUES (987654321987, 'orphan', '') RETURNING post_id")
                .first!.decode("post_id", as: Int64.self)
        }
        _ = try await api.impression(post: post, user: user, "UP")

        let traffic = Traffic(targets: [
            ("post", cluster.post.baseURL + "/get_post_info?post_id=\(post)"),
            ("post-orphan", cluster.post.baseURL + "/get_post_info?post_id=\(orphan)"),
            ("feed", cluster.feed.baseURL + "/get_trending_user_info"),
        ])
        #expect(await eventually { traffic.all.filter { $0.status == 200 && !$0.fallback }.count > 20 })

        cluster.profile.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        let fellBack = await eventually(timeout: .seconds(2)) {
            let recent = traffic.since(killedAt)
            return ["post", "feed"].allSatisfy { service in recent.contains { $0.service == service && $0.status == 200 && $0.fallback } }
        }
        #expect(fellBack, "no cache-backed answers within 2 s of the kill")
        // The outage lasts until both callers' breakers are open (the registry heard the
        // heartbeats stop), so what follows runs against open breakers.
        let opened = await eventually(timeout: .seconds(10)) {
            let post = try await metric(cluster.post, "breaker_state{caller=\"post\",dependency=\"profile\"}")
            let feed = try await metric(cluster.feed, "breaker_state{caller=\"feed\",dependency=\"profile\"}")
            return post == 2 && feed == 2
        }
        #expect(opened, "the breakers did not open after the kill")
        let outage = traffic.since(killedAt)
        #expect(outage.filter { $0.service == "post" }.allSatisfy { $0.body?["author"]?["user_name"] == "known" })
        let orphans = outage.filter { $0.service == "post-orphan" && $0.status == 200 }
        #expect(!orphans.isEmpty)
        #expect(orphans.allSatisfy { $0.body?["author"]?["user_name"] == .null })

        // Writes during the outage: a user the cache knows may post; one nobody can verify
        // gets 503 with Retry-After, not a guess.
        let written = try await api.createPost(user: user, title: "during the outage")
        #expect(written > post)
        let unverifiable = try await HTTP.post(
            cluster.post.baseURL + "/insert_post",
            json: "{\"user_id\": 987654321987, \"title\": \"t\", \"content\": \"c\"}"
        )
        #expect(unverifiable.status == 503)
        #expect(unverifiable.header("retry-after") != nil)
        #expect(unverifiable.json?["dependency"] == "profile")
        // Impressions likewise: the cached user's lands, an unverifiable one is 503.
        let impression = try await api.impression(post: written, user: user, "UP")
        #expect(impression.status == 201 && impression.json?["score"] == 1, "\(impression.text)")
        let unknownVoter = try await api.impression(post: written, user: 987_654_321_987, "UP")
        #expect(unknownVoter.status == 503 && unknownVoter.header("retry-after") != nil, "\(unknownVoter.text)")

        try await cluster.restartProfile()
        let backAt = ContinuousClock.now
        let fresh = await eventually(timeout: .seconds(2)) {
            let recent = traffic.since(backAt)
            return ["post", "feed"].allSatisfy { service in recent.contains { $0.service == service && $0.status == 200 && !$0.fallback } }
        }
        #expect(fresh, "answers not fresh within 2 s of Profile's return")
        await traffic.stop()
        // What was written during the outage is there, with its live author and its score.
        // Polled: one fresh answer each does not mean both breakers have closed for good; a
        // half-open probe that fails against the just-restarted Profile reopens a breaker for
        // a while, and its peer report reaches the other caller too.
        let after = try await api.postInfo(written)
        #expect(after.status == 200 && after.json?["title"] == "during the outage", "\(after.text)")
        #expect(after.json?["author"]?["user_name"] == "known")
        #expect(await eventually(timeout: .seconds(10)) { try await api.postInfo(written).json?["profile_source"] == "live" })
        #expect(numbers(try await HTTP.get(cluster.feed.baseURL + "/fetch_feed").json?["top_posts"], "post_id")?.first == Double(written))

        let failures = traffic.all.filter { $0.status >= 500 || $0.status < 0 }
        #expect(failures.isEmpty, "\(failures.count) failed answers from Post/Feed: \(failures.prefix(3).map { "\($0.service) \($0.status)" })")
        #expect(try await metric(cluster.post, "breaker_transitions_total{caller=\"post\",dependency=\"profile\",to=\"open\"}") ?? 0 >= 1)
    }

    @Test func profileFrozenOpensTheBreakersAndNobodyWaitsAfterThat() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("frozen")
        let post = try await api.createPost(user: user)
        _ = try await api.impression(post: post, user: user, "UP")
        let traffic = Traffic(targets: [
            ("post", cluster.post.baseURL + "/get_post_info?post_id=\(post)"),
            ("feed", cluster.feed.baseURL + "/get_trending_user_info"),
        ])
        #expect(await eventually { traffic.all.count > 20 })

        cluster.profile.signal(SIGSTOP)  // accepts connections, never answers
        let stateGauge = "breaker_state{caller=\"post\",dependency=\"profile\"}"
        let opened = await eventually(timeout: .seconds(5)) {
            let post = try await metric(cluster.post, stateGauge)
            let feed = try await metric(cluster.feed, "breaker_state{caller=\"feed\",dependency=\"profile\"}")
            return post == 2 && feed == 2
        }
        #expect(opened, "the breakers did not open on timeouts")
        // Both callers' health shows it: degraded, `profile` down, still ready.
        for service in [cluster.post, cluster.feed] {
            #expect(
                await eventually {
                    let health = try await HTTP.get(service.baseURL + "/health").json
                    return health?["status"] == "degraded" && health?["checks"]?["profile"] == "down"
                },
                "\(service.executable)"
            )
            #expect(try await HTTP.get(service.baseURL + "/health/ready").status == 200)
        }

        // From now on a request waits for the call timeout only as a half-open probe.
        let halfOpen = "breaker_transitions_total{caller=\"post\",dependency=\"profile\",to=\"half_open\"}"
        let probesBefore = try await metric(cluster.post, halfOpen) ?? 0
        let windowStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(3))
        let probesAfter = try await metric(cluster.post, halfOpen) ?? 0
        let window = traffic.since(windowStart).filter { $0.service == "post" && $0.startedAt < windowStart + .seconds(3) }
        let slow = window.filter { $0.elapsed >= SocialCluster.profileTimeout * 0.9 }
        #expect(window.count > 20)
        #expect(window.allSatisfy { $0.status == 200 && $0.fallback })
        let allowedProbes = Int(probesAfter - probesBefore) * 2
        #expect(slow.count <= allowedProbes, "\(slow.count) slow requests, \(allowedProbes) probes allowed")

        cluster.profile.signal(SIGCONT)
        let thawedAt = ContinuousClock.now
        #expect(
            await eventually(timeout: .seconds(5)) {
                traffic.since(thawedAt).contains { $0.service == "post" && $0.status == 200 && !$0.fallback }
            }
        )
        await traffic.stop()
        #expect(traffic.all.allSatisfy { $0.status > 0 && $0.status < 500 })
    }

    @Test func redisStoppedServesLiveAndCachingResumes() async throws {
        let cluster = try await SocialCluster()
        afterTest { await cluster.stop() }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("no cache")
        let post = try await api.createPost(user: user)

        try await cluster.redis.stop()
        for _ in 0..<5 {
            let info = try await api.postInfo(post)
            #expect(info.status == 200)
            #expect(info.json?["profile_source"] == "live")
            #expect(info.header("x-fallback") == nil)
        }
        #expect(try await api.createPost(user: user) > post)  // Profile verifies the user live
        #expect(try await api.trending().status == 200)
        #expect(
            await eventually {
                let health = try await HTTP.get(cluster.post.baseURL + "/health").json
                return health?["status"] == "degraded" && health?["checks"]?["redis"] == "down"
            }
        )
        #expect(try await HTTP.get(cluster.post.baseURL + "/health/ready").status == 200)  // degraded, still ready

        try await cluster.redis.start()  // empty: no persistence
        let cached = await eventually(timeout: .seconds(5)) {
            _ = try await api.postInfo(post)
            return try await withRedis(cluster.redis) { try await $0.get("social:profile:\(user)") } != nil
        }
        #expect(cached, "the cache was not written again after Redis came back")
        #expect(cluster.post.isRunning && cluster.feed.isRunning)
    }

    @Test func postgresStoppedAnswers503AndRecovers() async throws {
        let database = try await PrivatePostgres.start()
        let cluster = try await SocialCluster(databaseURL: database.url)
        afterTest {
            await cluster.stop()
            try? await database.stop(mode: "immediate")
        }
        let api = SocialClient(cluster: cluster)
        let user = try await api.createUser("durable")
        let post = try await api.createPost(user: user)

        try await database.stop()
        #expect(
            await eventually {
                let info = try await api.postInfo(post)
                return info.status == 503 && info.header("retry-after") != nil && info.header("content-type") == "application/problem+json"
            }
        )
        let insert = try await HTTP.post(cluster.profile.baseURL + "/insert_new_user", json: "{\"user_name\": \"x\"}")
        #expect(insert.status == 503)
        #expect(insert.header("retry-after") != nil)
        #expect(try await HTTP.get(cluster.feed.baseURL + "/fetch_feed").status == 503)
        #expect(
            await eventually {
                let ready = try await HTTP.get(cluster.post.baseURL + "/health/ready")
                return ready.status == 503 && ready.json?["checks"]?["postgres"] == "down"
            }
        )
        #expect(!insert.text.contains("SELECT") && !insert.text.contains("INSERT"))

        try await database.start()
        #expect(await eventually(timeout: .seconds(10)) { try await api.postInfo(post).status == 200 })
        #expect(await eventually { try await HTTP.get(cluster.post.baseURL + "/health/ready").status == 200 })
        #expect(try await api.createUser("after") > user)
    }
}
