import Shared

/// The `flags` schema: every version-bearing entity (flags, segments) in one table, and the
/// audit history of every change.
enum FlagSchema {
    static let migrator = Migrator(
        schema: "flags",
        migrations: [
            Migration(
                version: 1,
                name: "entities, history",
                statements: [
                    // One sequence for all versions: ETags never repeat, even for a flag deleted and
                    // created again, and a higher version is always the later write.
                    "CREATE SEQUENCE flags.versions",
                    """
                    CREATE TABLE flags.entities (
                        kind text NOT NULL CHECK (kind IN ('flag', 'segment')),
                        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
                        version bigint NOT NULL,
                        deleted boolean NOT NULL DEFAULT false,
                        definition jsonb,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (kind, name)
                    )
                    """,
                    """
                    CREATE TABLE flags.history (
                        id bigserial PRIMARY KEY,
                        kind text NOT NULL,
                        name text NOT NULL,
                        version bigint NOT NULL,
                        action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
                        actor text NOT NULL,
                        at timestamptz NOT NULL DEFAULT now(),
                        before jsonb,
                        after jsonb
                    )
                    """,
                    "CREATE INDEX history_entity ON flags.history (kind, name, id DESC)",
                ]
            )
        ]
    )
}
