import Shared

extension StreamEvent {
    /// An event as the log holds it (``jsonText``), read back without validating it again;
    /// nil for anything that is not an event.
    init?(logged json: JSONValue) {
        guard case .object(let object) = json, case .string(let type)? = object["event_type"],
            case .string(let user)? = object["user_id"], case .string(let tier)? = object["user_tier"]
        else { return nil }
        eventType = type
        userID = user
        userTier = tier
        amount = object["amount"]?.double
        if case .string(let text)? = object["timestamp"] { timestamp = text } else { timestamp = "" }
        if case .string(let id)? = object["event_id"] { eventID = id } else { eventID = nil }
        if case .object(let members)? = object["properties"] { properties = members } else { properties = [:] }
    }

    /// The value at `path`, nil when absent. Walks `properties` without copying it.
    func value(_ path: FieldPath) -> JSONValue? {
        switch path {
        case .eventType: return .string(eventType)
        case .userID: return .string(userID)
        case .userTier: return .string(userTier)
        case .amount: return amount.map(JSONValue.number)
        case .timestamp: return .string(timestamp)
        case .eventID: return eventID.map(JSONValue.string)
        case .property(let names):
            guard var current = properties[names[0]] else { return nil }
            for name in names.dropFirst() {
                guard case .object(let members) = current, let next = members[name] else { return nil }
                current = next
            }
            return current == .null ? nil : current
        }
    }

    func scalar(_ path: FieldPath) -> ConditionScalar? {
        value(path).flatMap(ConditionScalar.init(event:))
    }
}
