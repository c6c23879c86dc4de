import Shared

/// `social.posts`, PostService's table (FeedService reads it).
struct PostStore: Sendable {
    let postgres: PostgresClient

    func insert(userID: Int64, title: String, content: String) async throws -> PostRecord {
        let rows = try await postgres.query(
            """
            INSERT INTO social.posts (user_id, title, content) VALUES ($1, $2, $3)
            RETURNING \(PostRecord.columns)
            """,
            [userID, title, content]
        )
        return try PostRecord(row: rows.first!)
    }

    func post(_ postID: Int64) async throws -> PostRecord? {
        try await postgres.query("SELECT \(PostRecord.columns) FROM social.posts WHERE post_id = $1", [postID])
            .first.map(PostRecord.init(row:))
    }

    func exists(_ postID: Int64) async throws -> Bool {
        try await postgres.query("SELECT 1 FROM social.posts WHERE post_id = $1", [postID]).first != nil
    }
}
