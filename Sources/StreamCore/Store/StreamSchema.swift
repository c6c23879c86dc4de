import Shared

/// The `streams` schema: one row per subscriber's filter, deletions kept as tombstones so a
/// late change notice can never bring a deleted filter back.
enum StreamSchema {
    static let migrator = Migrator(
        schema: "streams",
        migrations: [
            Migration(
                version: 1,
                name: "filters",
                statements: [
                    // One sequence for all versions: an ETag never repeats, also for a filter
                    // deleted and created again, and a higher version is the later write.
                    "CREATE SEQUENCE streams.versions",
                    """
                    CREATE TABLE streams.filters (
                        subscriber_id text PRIMARY KEY CHECK (char_length(subscriber_id) BETWEEN 1 AND 128),
                        version bigint NOT NULL,
                        deleted boolean NOT NULL DEFAULT false,
                        definition jsonb,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                ]
            )
        ]
    )
}
