import Shared

/// What goes out on `flags.changes`: which entity moved to which version, not the
/// definition. Pub/sub is anyone's who can write to Redis, so a receiver reads the entity
/// itself from PostgreSQL, which only the service writes, and never applies a definition it
/// was sent.
struct ChangeNotice: Codable, Sendable, Equatable {
    var kind: EntityChange.Kind
    var name: String
    var version: Int64

    init(_ change: EntityChange) {
        self.kind = change.kind
        self.name = change.name
        self.version = change.version
    }
}
