import Foundation

/// Profile, Post and Feed started as real processes against a Redis of their own (so no other
/// test's `health.profile` heartbeats reach them) and the given PostgreSQL, with short health
/// intervals and call timeouts so faults show quickly.
public final class SocialCluster: @unchecked Sendable {
    public let redis: PrivateRedis
    public var redisURL: String { redis.url }
    public let databaseURL: String
    public let profilePort: Int
    public private(set) var profile: ServiceProcess
    public let post: ServiceProcess
    public let feed: ServiceProcess
    /// Profile's call timeout as the callers use it.
    public static let profileTimeout: Duration = .milliseconds(500)

    static func environment(redisURL: String, databaseURL: String, profilePort: Int) -> [String: String] {
        [
            "REDIS_URL": redisURL,
            "DATABASE_URL": databaseURL,
            "PROFILE_URL": "http://127.0.0.1:\(profilePort)",
            "PROFILE_TIMEOUT_MS": String(profileTimeout.millisecondsRoundedUp),
            // The production default: 1.5 s of silence before a service counts as down, so
            // a heartbeat delayed by a busy test machine does not open breakers by itself.
            "HEALTH_INTERVAL_MS": "500",
            "PG_QUERY_TIMEOUT_MS": "2000",
        ]
    }

    public init(databaseURL: String = TestEnvironment.databaseURL) async throws {
        let redis = try await PrivateRedis.start()
        let redisURL = redis.url
        self.redis = redis
        self.databaseURL = databaseURL
        let profilePort = freePort()
        self.profilePort = profilePort
        let env = Self.environment(redisURL: redisURL, databaseURL: databaseURL, profilePort: profilePort)
        self.profile = try ServiceProcess(executable: "ProfileService", portVariable: "PROFILE_PORT", port: profilePort, environment: env)
        self.post = try ServiceProcess(executable: "PostService", portVariable: "POST_PORT", environment: env)
        self.feed = try ServiceProcess(executable: "FeedService", portVariable: "FEED_PORT", environment: env)
        for service in [profile, post, feed] {
            guard await service.waitReady() else {
                throw Shell.Failure(command: [service.executable], status: -1, output: "not ready:\n\(service.log)")
            }
        }
    }

    /// Starts Profile again on the same port (after a SIGKILL) and waits until it is ready.
    public func restartProfile() async throws {
        _ = await profile.waitForExit(timeout: .seconds(5))
        profile = try ServiceProcess(executable: "ProfileService", portVariable: "PROFILE_PORT", port: profilePort, environment: Self.environment(redisURL: redisURL, databaseURL: databaseURL, profilePort: profilePort))
        guard await profile.waitReady() else {
            throw Shell.Failure(command: ["ProfileService"], status: -1, output: "not ready after restart:\n\(profile.log)")
        }
    }

    public func stop() async {
        for service in [profile, post, feed] {
            service.signal(SIGCONT)
            service.signal(SIGTERM)
        }
        for service in [profile, post, feed] {
            if await service.waitForExit(timeout: .seconds(10)) == nil { service.signal(SIGKILL) }
        }
        try? await redis.stop()
    }
}
