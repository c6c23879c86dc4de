import Foundation
import Shared

/// A validated `POST /event` body, ready for the log.
public struct IncomingEvent: Sendable, Equatable {
    var name: String
    var userID: String
    /// The event's declared fields, amounts in their shortest decimal form.
    var fields: [(String, String)]
    /// Makes repeated posts no-ops.
    var idempotencyKey: String?

    public static func == (lhs: IncomingEvent, rhs: IncomingEvent) -> Bool {
        lhs.name == rhs.name && lhs.userID == rhs.userID && lhs.idempotencyKey == rhs.idempotencyKey
            && lhs.fields.map(\.0) == rhs.fields.map(\.0) && lhs.fields.map(\.1) == rhs.fields.map(\.1)
    }

    static let maxTextLength = 256

    /// Validates `{"name", "event_properties": {"user_id", …}, "event_id"?}` against the
    /// catalog; a failure names the field (`event_properties.amount`). Undeclared properties
    /// are accepted and not kept.
    init(json: JSONValue, headerKey: String?, rules: RuleSet) throws(ProblemDetails) {
        guard case .object(let body) = json else { throw .invalidField("", "the body must be a JSON object") }
        guard case .string(let name)? = body["name"] else { throw .invalidField("name", "name is required and must be a string") }
        guard let event = rules.event(name) else {
            let known = rules.events.map(\.name)
            var problem = ProblemDetails.invalidField("name", "unknown event '\(name.prefix(64))'; known events: \(known.joined(separator: ", "))")
            problem.extensions["known_events"] = .array(known.map(JSONValue.string))
            throw problem
        }
        guard case .object(let properties)? = body["event_properties"] else {
            throw .invalidField("event_properties", "event_properties is required and must be an object")
        }
        self.name = name
        self.userID = try Self.text(properties["user_id"], field: "event_properties.user_id")
        var fields: [(String, String)] = []
        for field in event.fields {
            let path = "event_properties.\(field.name)"
            switch field.type {
            case .text:
                fields.append((field.name, try Self.text(properties[field.name], field: path)))
            case .amount:
                guard let amount = properties[field.name]?.double else { throw .invalidField(path, "\(field.name) is required and must be a number") }
                guard amount.isFinite, amount >= 0 else { throw .invalidField(path, "\(field.name) must be a finite number, 0 or more") }
                fields.append((field.name, amount.integralOrShortestText))
            }
        }
        self.fields = fields
        var key: String?
        if let value = body["event_id"] {
            guard case .string(let id) = value, !id.isEmpty, id.utf8.count <= Self.maxTextLength else {
                throw .invalidField("event_id", "event_id must be a string of 1 to \(Self.maxTextLength) bytes")
            }
            key = id
        }
        if let headerKey {
            guard !headerKey.isEmpty, headerKey.utf8.count <= Self.maxTextLength else {
                throw .invalidField("Idempotency-Key", "Idempotency-Key must be 1 to \(Self.maxTextLength) bytes")
            }
            if let key, key != headerKey { throw .invalidField("event_id", "event_id and Idempotency-Key differ") }
            key = headerKey
        }
        self.idempotencyKey = key
    }

    public init(name: String, userID: String, fields: [(String, String)] = [], idempotencyKey: String? = nil) {
        self.name = name
        self.userID = userID
        self.fields = fields
        self.idempotencyKey = idempotencyKey
    }

    /// Ids arrive as strings or integers (`"user_id": 42`); both are kept as text.
    private static func text(_ value: JSONValue?, field: String) throws(ProblemDetails) -> String {
        let text: String
        switch value {
        case .string(let string)?: text = string
        case .number(let number)? where number.integralValue != nil: text = number.integralOrShortestText
        case .integer(let integer)?: text = String(integer)
        case nil, .null?: throw .invalidField(field, "\(field.split(separator: ".").last!) is required")
        default: throw .invalidField(field, "\(field.split(separator: ".").last!) must be a string")
        }
        guard !text.isEmpty, text.utf8.count <= maxTextLength else {
            throw .invalidField(field, "\(field.split(separator: ".").last!) must be 1 to \(maxTextLength) bytes")
        }
        return text
    }

    /// What a repeated post must match to be the same event.
    var fingerprint: String {
        var text = name + "\u{0}" + userID
        for (field, value) in fields { text += "\u{0}\(field)=\(value)" }
        return text
    }
}
