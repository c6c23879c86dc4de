import Shared

/// One version of a subscriber's filter: a row of `streams.filters` (a tombstone when
/// deleted).
struct FilterRecord: Sendable, Equatable {
    var subscriberID: String
    var version: Int64
    /// Nil for a tombstone.
    var filter: SubscriberFilter?
    var createdAt: String
    var updatedAt: String

    var deleted: Bool { filter == nil }

    /// What the API shows: the filter plus `version`, `created_at` and `updated_at`.
    var json: JSONValue {
        guard var object = filter?.members else { return .null }
        object["version"] = .number(Double(version))
        object["created_at"] = .string(createdAt)
        object["updated_at"] = .string(updatedAt)
        return .object(object)
    }

    /// The strong entity tag of this version.
    var etag: String { "\"\(version)\"" }
}
