import Shared

/// One version of a flag or segment: a row of `flags.entities`, a message on
/// `flags.changes`, and an event of the SSE stream.
///
/// Versions come from one PostgreSQL sequence, so a higher version is always the later
/// write. Deletions are kept as tombstones (`deleted`, no definition) so that a late message
/// can never bring a deleted flag back.
public struct EntityChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case flag, segment
    }

    var kind: Kind
    var name: String
    var version: Int64
    var deleted: Bool
    /// The validated definition as stored; nil for a tombstone.
    var definition: JSONValue?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case kind, name, version, deleted, definition
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(kind: Kind, name: String, version: Int64, deleted: Bool, definition: JSONValue?, createdAt: String, updatedAt: String) {
        self.kind = kind
        self.name = name
        self.version = version
        self.deleted = deleted
        self.definition = definition
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    var key: Key { Key(kind: kind, name: name) }

    struct Key: Hashable, Sendable {
        var kind: Kind
        var name: String
    }

    /// What the API shows: the definition plus `version`, `created_at` and `updated_at`.
    var record: JSONValue {
        guard case .object(var object) = definition else { return .null }
        object["version"] = .number(Double(version))
        object["created_at"] = .string(createdAt)
        object["updated_at"] = .string(updatedAt)
        return .object(object)
    }

    /// The strong entity tag of this version.
    var etag: String { "\"\(version)\"" }
}
