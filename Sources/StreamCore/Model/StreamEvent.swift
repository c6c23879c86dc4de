import Foundation
import NIOCore
import Shared

/// One event as produced: validated, with its timestamp set, and written once as the JSON
/// every subscriber receives.
struct StreamEvent: Sendable, Equatable {
    var eventType: String
    var userID: String
    var userTier: String
    var amount: Double?
    /// RFC 3339, as sent or set on receipt.
    var timestamp: String
    /// Makes a repeated post a no-op within the dedupe window.
    var eventID: String?
    var properties: [String: JSONValue]

    static let fields: Set<String> = ["event_type", "user_id", "user_tier", "amount", "timestamp", "event_id", "properties"]
    static let maxPropertyDepth = 8

    /// Validates one event of a request; `path` prefixes field names in errors (`[3].amount`).
    init(json: JSONValue, path: String = "", now: Date) throws {
        let reader = try FieldReader(json, path: path)
        try reader.rejectUnknown(Self.fields)
        eventType = try reader.name("event_type")
        userID = try reader.name("user_id")
        userTier = try reader.name("user_tier", maximum: 64)
        amount = try reader.number("amount")
        if let text = try reader.string("timestamp") {
            guard Timestamp.parse(text) != nil else { throw reader.invalid("timestamp", "must be an RFC 3339 timestamp") }
            timestamp = text
        } else {
            timestamp = Timestamp.iso8601(now)
        }
        eventID = try reader.value("event_id") == nil ? nil : reader.name("event_id")
        switch reader.value("properties") {
        case nil: properties = [:]
        case .object(let members)?:
            if let deep = Self.pathDeeperThan(Self.maxPropertyDepth, .object(members), at: reader.field("properties")) {
                throw JSONFieldError(field: deep, "nests deeper than \(Self.maxPropertyDepth) levels")
            }
            properties = members
        default: throw reader.invalid("properties", "must be an object")
        }
    }

    private static func pathDeeperThan(_ limit: Int, _ value: JSONValue, at path: String) -> String? {
        switch value {
        case .object(let members):
            if limit == 0 { return path }
            for (name, member) in members {
                if let found = pathDeeperThan(limit - 1, member, at: path + "." + name) { return found }
            }
        case .array(let items):
            if limit == 0 { return path }
            for (index, item) in items.enumerated() {
                if let found = pathDeeperThan(limit - 1, item, at: path + "[\(index)]") { return found }
            }
        default: break
        }
        return nil
    }

    /// The event as JSON text, sorted keys: what the log holds and subscribers receive.
    var jsonText: String {
        var writer = JSONWriter()
        writer.beginObject()
        if let amount {
            writer.key("amount")
            writer.number(amount)
        }
        if let eventID {
            writer.key("event_id")
            writer.string(eventID)
        }
        writer.key("event_type")
        writer.string(eventType)
        writer.key("properties")
        writer.value(.object(properties))
        writer.key("timestamp")
        writer.string(timestamp)
        writer.key("user_id")
        writer.string(userID)
        writer.key("user_tier")
        writer.string(userTier)
        writer.endObject()
        return String(buffer: writer.buffer)
    }
}
