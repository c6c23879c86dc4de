import Shared

/// The `social` schema, shared by Profile (users), Post (posts) and Feed (impressions,
/// scores). Each service runs the same migrations at start-up; the migrator's advisory lock
/// makes the three starting together apply them once.
///
/// No foreign keys cross service lines: Post and Feed learn about users from Profile's API,
/// so each service stays the only writer of its own tables.
enum SocialSchema {
    static let migrator = Migrator(
        schema: "social",
        migrations: [
            Migration(
                version: 1,
                name: "users, posts, impressions, scores",
                statements: [
                    """
                    CREATE TABLE social.users (
                        user_id bigserial PRIMARY KEY,
                        user_name text NOT NULL CHECK (char_length(user_name) BETWEEN 1 AND 100),
                        created_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    """
                    CREATE TABLE social.posts (
                        post_id bigserial PRIMARY KEY,
                        user_id bigint NOT NULL,
                        title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
                        content text NOT NULL CHECK (char_length(content) <= 20000),
                        created_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    "CREATE INDEX posts_user_id ON social.posts (user_id)",
                    """
                    CREATE TABLE social.impressions (
                        impression_id bigserial PRIMARY KEY,
                        post_id bigint NOT NULL,
                        user_id bigint NOT NULL,
                        impression_type text NOT NULL CHECK (impression_type IN ('UP', 'DOWN')),
                        created_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    "CREATE INDEX impressions_post_id ON social.impressions (post_id)",
                    """
                    CREATE TABLE social.scores (
                        post_id bigint PRIMARY KEY,
                        score bigint NOT NULL DEFAULT 0,
                        updated_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    "CREATE INDEX scores_rank ON social.scores (score DESC, post_id DESC)",
                ]
            )
        ]
    )
}
