/// A user as ProfileService answers it (`GET /get_user_info`).
struct Profile: Codable, Sendable, Equatable {
    var userID: Int64
    var userName: String
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userName = "user_name"
        case createdAt = "created_at"
    }

    /// The Redis key of the cached copy Post and Feed fall back to.
    static func cacheKey(_ userID: Int64) -> String { "social:profile:\(userID)" }
}
