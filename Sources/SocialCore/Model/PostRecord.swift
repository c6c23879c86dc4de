import Foundation
import Shared

/// A row of `social.posts` as the API answers it (Post's `insert_post`/`get_post_info`,
/// Feed's `fetch_feed`).
struct PostRecord: Encodable, Sendable, Equatable {
    var postID: Int64
    var userID: Int64
    var title: String
    var content: String
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case postID = "post_id"
        case userID = "user_id"
        case title, content
        case createdAt = "created_at"
    }

    /// The columns every query selects: `post_id, user_id, title, content, created_at`.
    static let columns = "post_id, user_id, title, content, created_at"

    init(row: PostgresRow) throws {
        self.postID = try row.decode("post_id")
        self.userID = try row.decode("user_id")
        self.title = try row.decode("title")
        self.content = try row.decode("content")
        self.createdAt = Timestamp.iso8601(try row.decode("created_at", as: Date.self))
    }
}
