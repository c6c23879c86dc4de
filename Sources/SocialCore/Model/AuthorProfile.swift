/// What Post and Feed embed for an author: a user never seen has null fields, not an error.
struct AuthorProfile: Encodable, Sendable, Equatable {
    var userID: Int64
    var userName: String?
    var createdAt: String?

    init(userID: Int64, profile: Profile?) {
        self.userID = userID
        self.userName = profile?.userName
        self.createdAt = profile?.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userName = "user_name"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .userID)
        // Explicit nulls: clients of the older service expect the keys to be present.
        try container.encode(userName, forKey: .userName)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
