import Shared

/// What one subscriber wants delivered: events of these types, from users of these tiers,
/// with at least this amount, for which `conditions` hold. An empty list means any.
struct SubscriberFilter: Sendable, Equatable {
    var subscriberID: String
    var eventTypes: [String]
    var userTiers: [String]
    var minAmount: Double?
    var conditions: FilterCondition?

    static let fields: Set<String> = ["subscriber_id", "event_types", "user_tiers", "min_amount", "conditions"]
    /// Read-only members of a record, accepted back as read and ignored.
    static let readOnly: Set<String> = ["version", "created_at", "updated_at"]
    static let maxListItems = 100

    /// Validates a filter document (422 naming the field).
    init(json: JSONValue) throws {
        let reader = try FieldReader(json)
        try reader.rejectUnknown(Self.fields, ignoring: Self.readOnly)
        subscriberID = try reader.name("subscriber_id")
        eventTypes = try Self.names(reader, "event_types")
        userTiers = try Self.names(reader, "user_tiers")
        minAmount = try reader.number("min_amount")
        if let minimum = minAmount, minimum < 0 { throw reader.invalid("min_amount", "must be 0 or more") }
        conditions = try reader.value("conditions").map { try FilterCondition(json: $0, path: "conditions") }
    }

    /// A list of names, duplicates dropped, in the order sent.
    private static func names(_ reader: FieldReader, _ field: String) throws -> [String] {
        var seen = Set<String>()
        return try reader.array(field, maximum: maxListItems).enumerated().compactMap { index, item in
            let path = reader.field(field) + "[\(index)]"
            guard case .string(let name) = item else { throw JSONFieldError(field: path, "must be a string") }
            try FieldReader.checkName(name) { JSONFieldError(field: path, $0) }
            return seen.insert(name).inserted ? name : nil
        }
    }

    /// The canonical document, as stored in PostgreSQL.
    var json: JSONValue { .object(members) }

    /// The document's members.
    var members: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "subscriber_id": .string(subscriberID),
            "event_types": .array(eventTypes.map(JSONValue.string)),
            "user_tiers": .array(userTiers.map(JSONValue.string)),
            "min_amount": minAmount.map(JSONValue.number) ?? .null,
        ]
        if let conditions { object["conditions"] = conditions.json }
        return object
    }
}
