import Foundation
import Logging
import Shared

/// The last known copy of each profile, in Redis under `social:profile:<user_id>`.
///
/// ProfileService seeds it on insert; every live read by Post and Feed refreshes it; with
/// Profile down they read it. Writes are best effort: a cache that cannot be written is
/// logged, never an error for the request.
struct ProfileCache: Sendable {
    let redis: RedisClient
    let ttl: Duration
    let logger: Logger

    init(redis: RedisClient, ttl: Duration = .seconds(7 * 24 * 3600), logger: Logger) {
        self.redis = redis
        self.ttl = ttl
        self.logger = logger
    }

    func store(_ profile: Profile) async {
        do {
            try await redis.set(Profile.cacheKey(profile.userID), Array(try JSONEncoder().encode(profile)), expiry: ttl)
        } catch {
            logger.debug("profile not cached", metadata: ["social.user_id": "\(profile.userID)", "error": "\(error)"])
        }
    }

    /// The cached copy, nil when none; throws when Redis cannot be read.
    func load(_ userID: Int64) async throws -> Profile? {
        try await redis.get(Profile.cacheKey(userID)).map { try JSONDecoder().decode(Profile.self, from: Data($0)) }
    }
}
