import Foundation

/// A user as ProfileService answers it (`GET /get_user_info`).
public struct Profile: Codable, Sendable, Equatable {
    public var userID: Int64
    public var userName: String
    public var createdAt: String?

    public init(userID: Int64, userName: String, createdAt: String?) {
        self.userID = userID
        self.userName = userName
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userName = "user_name"
        case createdAt = "created_at"
    }

    /// The Redis key of the cached copy Post and Feed fall back to.
    public static func cacheKey(_ userID: Int64) -> String { "social:profile:\(userID)" }
}

/// Where the profile fields of an answer came from.
public enum ProfileSource: String, Codable, Sendable {
    /// Asked ProfileService just now.
    case live
    /// ProfileService could not be asked; the last known copy (or nulls) from the cache.
    case cache
}

/// What Post and Feed embed for an author: a user never seen has null fields, not an error.
public struct AuthorProfile: Codable, Sendable, Equatable {
    public var userID: Int64
    public var userName: String?
    public var createdAt: String?

    public init(userID: Int64, profile: Profile?) {
        self.userID = userID
        self.userName = profile?.userName
        self.createdAt = profile?.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userName = "user_name"
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .userID)
        // Explicit nulls: clients of the older service expect the keys to be present.
        try container.encode(userName, forKey: .userName)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
