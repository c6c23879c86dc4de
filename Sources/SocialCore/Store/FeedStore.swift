import Shared

/// `social.impressions` and `social.scores`, FeedService's tables, and the ranking over
/// `social.posts`.
struct FeedStore: Sendable {
    let postgres: PostgresClient

    /// Records an impression and moves its post's score by `delta`, together or not at all;
    /// the upsert takes the score row's lock, so concurrent impressions add up exactly.
    func record(postID: Int64, userID: Int64, impressionType: String, delta: Int) async throws -> RecordedImpression {
        try await postgres.withTransaction { transaction in
            let impressionID = try await transaction.query(
                "INSERT INTO social.impressions (post_id, user_id, impression_type) VALUES ($1, $2, $3) RETURNING impression_id",
                [postID, userID, impressionType]
            ).first!.decode("impression_id", as: Int64.self)
            let score = try await transaction.query(
                """
                INSERT INTO social.scores (post_id, score) VALUES ($1, $2)
                ON CONFLICT (post_id) DO UPDATE SET score = social.scores.score + EXCLUDED.score, updated_at = now()
                RETURNING score
                """,
                [postID, delta]
            ).first!.decode("score", as: Int64.self)
            return RecordedImpression(
                impressionID: impressionID,
                postID: postID,
                userID: userID,
                impressionType: impressionType,
                score: score
            )
        }
    }

    /// The top `count` posts by score, newest first among equals; posts without impressions
    /// score 0.
    func topPosts(_ count: Int) async throws -> [RankedPost] {
        try await postgres.query(
            """
            SELECT p.post_id, p.user_id, p.title, p.content, p.created_at, COALESCE(s.score, 0) AS score
            FROM social.posts p LEFT JOIN social.scores s ON s.post_id = p.post_id
            ORDER BY COALESCE(s.score, 0) DESC, p.post_id DESC
            LIMIT $1
            """,
            [count]
        ).rows.map { row in
            RankedPost(post: try PostRecord(row: row), score: try row.decode("score"))
        }
    }
}
