import Foundation

/// Profile, Post and Feed started as real processes against a Redis of their own (so no other
/// test's `health.profile` heartbeats reach them) and, unless given one, a database of their own
/// (so no other test's posts and impressions reach their feed), with short health intervals and
/// call timeouts so faults show quickly.
public final class SocialCluster: @unchecked Sendable {
    public let redis: PrivateRedis
    public let databaseURL: String
    public var profilePort: Int { profile.port }
    public private(set) var profile: ServiceProcess
    public let post: ServiceProcess
    public let feed: ServiceProcess
    /// Profile's call timeout as the callers use it.
    public static let profileTimeout: Duration = .milliseconds(500)

    /// - Parameter profilePort: where Post and Feed find Profile (nil for Profile itself).
    static func environment(redis: PrivateRedis, databaseURL: String, profilePort: Int?) -> [String: String] {
        [
            "DATABASE_URL": databaseURL,
            "PROFILE_TIMEOUT_MS": String(profileTimeout.millisecondsRoundedUp),
            // The production default: 1.5 s of silence before a service counts as down, so
            // a heartbeat delayed by a busy test machine does not open breakers by itself.
            "HEALTH_INTERVAL_MS": "500",
            "PG_QUERY_TIMEOUT_MS": "2000",
        ].merging(redis.environment) { $1 }.merging(profilePort.map { ["PROFILE_URL": "http://127.0.0.1:\($0)"] } ?? [:]) { $1 }
    }

    /// - Parameter databaseURL: nil makes a fresh database on the run's PostgreSQL.
    public init(databaseURL: String? = nil) async throws {
        let redis = try await PrivateRedis.start()
        self.redis = redis
        let databaseURL = if let databaseURL { databaseURL } else { try await TestEnvironment.freshDatabase("social") }
        self.databaseURL = databaseURL
        // Profile first: Post and Feed are told its port.
        let profile = try await ServiceProcess.start(
            "ProfileService",
            portVariable: "PROFILE_PORT",
            environment: Self.environment(redis: redis, databaseURL: databaseURL, profilePort: nil)
        )
        self.profile = profile
        let env = Self.environment(redis: redis, databaseURL: databaseURL, profilePort: profile.port)
        async let post = ServiceProcess.start("PostService", portVariable: "POST_PORT", environment: env)
        async let feed = ServiceProcess.start("FeedService", portVariable: "FEED_PORT", environment: env)
        self.post = try await post
        self.feed = try await feed
    }

    /// Starts Profile again on the same port (after a SIGKILL) and waits until it is ready.
    public func restartProfile() async throws {
        _ = await profile.waitForExit(timeout: .seconds(5))
        profile = try await ServiceProcess.start(
            "ProfileService",
            portVariable: "PROFILE_PORT",
            port: profilePort,
            environment: Self.environment(redis: redis, databaseURL: databaseURL, profilePort: profilePort)
        )
    }

    public func stop() async {
        await ServiceProcess.stopAll([profile, post, feed])
        try? await redis.stop()
    }
}
