import Shared

extension MetricPoint {
    /// Reads `{"timestamp", "value", "type"}`: `timestamp` an RFC 3339 date-time with its
    /// offset (or `Z`) inside the accepted window around `now`, `value` a finite number, `type`
    /// a name. Every mistake is a ``JSONFieldError`` naming the field under `path` (`[3].value`).
    init(json: JSONValue, path: String = "", now: Int64, window: AcceptedWindow) throws {
        let reader = try FieldReader(json, path: path)
        try reader.rejectUnknown(["timestamp", "value", "type"], ignoring: ["id"])
        type = try reader.name("type", maximum: Self.maxTypeLength)
        guard let value = try reader.number("value") else { throw reader.invalid("value", "is required") }
        self.value = value
        let text = try reader.requiredString("timestamp")
        guard let timestamp = Timestamp.parseDateTime(text) else {
            throw reader.invalid("timestamp", "must be an RFC 3339 date-time with an offset, such as 2026-12-02T07:25:06.123Z")
        }
        guard timestamp >= now - window.late.microseconds else {
            throw reader.invalid("timestamp", "is more than \(window.late.wholeSecondsRoundedUp) s in the past, older than late points are accepted")
        }
        guard timestamp <= now + window.ahead.microseconds else {
            throw reader.invalid("timestamp", "is more than \(window.ahead.wholeSecondsRoundedUp) s in the future")
        }
        self.timestamp = timestamp
    }

    /// The stored point as answered: its id, the instant in UTC, the value and the type.
    func json(id: Int64) -> JSONValue {
        [
            "id": .integer(id), "timestamp": .string(Timestamp.iso8601(microseconds: timestamp)), "value": .number(value),
            "type": .string(type),
        ]
    }
}

/// How far from now a point's timestamp may be: `late` into the past (late points land in
/// their bucket), `ahead` into the future (clock skew).
struct AcceptedWindow: Sendable {
    var late: Duration
    var ahead: Duration
}
