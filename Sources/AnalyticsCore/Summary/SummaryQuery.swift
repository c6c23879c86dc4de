import Foundation
import Hummingbird
import Shared

/// A summary request, checked: the type, the range `[from, to)` (minute-aligned, UTC µs), and
/// the series slots when `bucket` asks for them.
///
/// `period` is a trailing window ending with the current minute (`minute` 1 min, `hour` 60
/// min, `daily` 24 h, `weekly` 7 days, `monthly` 30 days); `from`/`to` (RFC 3339, rounded
/// down to the minute) name a range instead. `bucket=minute|hour|day` splits the range into
/// slots at the boundaries of minutes, hours or days of `tz` (an IANA name, default UTC), the
/// first and last slot cut to the range.
struct SummaryQuery: Sendable {
    enum Bucket: String, Sendable, CaseIterable {
        case minute, hour, day
    }

    static let periods: [String: Int64] = [
        "minute": 60, "hour": 3_600, "daily": 86_400, "weekly": 7 * 86_400, "monthly": 30 * 86_400,
    ]
    static let maxSlots = 1_500

    var type: String
    /// The period's name, or `custom` for `from`/`to`.
    var period: String
    var from: Int64
    var to: Int64
    var bucket: Bucket?
    var timeZone: TimeZone
    var plan: BucketPlan

    /// What identifies the answer in the cache: a trailing period is one entry however the
    /// window moves, as the older service cached it.
    var cacheKey: String {
        let range = period == "custom" ? "\(from)-\(to)" : period
        return "analytics:summary:\(type)|\(range)|\(bucket?.rawValue ?? "-")|\(timeZone.identifier)"
    }

    /// - Parameter maxRange: the longest range a query may span (the rollups' retention).
    init(_ parameters: [String: String], now: Int64, maxRange: Duration) throws {
        func invalid(_ field: String, _ detail: String) -> JSONFieldError { JSONFieldError(field: field, detail) }
        guard let type = parameters["type"], !type.isEmpty else { throw invalid("type", "is required") }
        try FieldReader.checkName(type, maximum: MetricPoint.maxTypeLength) { invalid("type", $0) }
        self.type = type
        let minute = Resolution.minute
        switch (parameters["period"], parameters["from"], parameters["to"]) {
        case (let period?, nil, nil):
            guard let seconds = Self.periods[period] else {
                throw invalid("period", "must be one of minute, hour, daily, weekly, monthly (or give from and to)")
            }
            self.period = period
            to = minute.floor(now) + minute.length
            from = to - seconds * 1_000_000
        case (nil, let fromText?, let toText?):
            guard let from = Timestamp.parseDateTime(fromText) else { throw invalid("from", "must be an RFC 3339 date-time with an offset") }
            guard let to = Timestamp.parseDateTime(toText) else { throw invalid("to", "must be an RFC 3339 date-time with an offset") }
            self.from = minute.floor(from)
            self.to = minute.floor(to)
            guard self.to > self.from else { throw invalid("to", "must be at least a minute after from") }
            guard self.to - self.from <= maxRange.microseconds else {
                throw invalid("to", "the range may span at most \(maxRange.wholeSecondsRoundedUp / 86_400) days")
            }
            period = "custom"
        case (nil, nil, nil):
            throw invalid("period", "is required (or give from and to)")
        case (_?, _, _):
            throw invalid("period", "give either period or from and to, not both")
        default:
            throw invalid(parameters["from"] == nil ? "from" : "to", "from and to go together")
        }
        let zoneName = parameters["tz"] ?? "UTC"
        // Names only (`Area/City`, `UTC`, `Etc/GMT+5`): the name becomes a path into tzdata.
        let nameBytes = zoneName.utf8
        guard nameBytes.count <= 64, !zoneName.contains(".."), !zoneName.hasPrefix("/"),
            nameBytes.allSatisfy({ FieldReader.isNameByte($0) || $0 == 0x2F || $0 == 0x2B }),
            let zone = TimeZone(identifier: zoneName)
        else {
            throw invalid("tz", "must be an IANA time zone name, such as Europe/Paris")
        }
        timeZone = zone
        if let name = parameters["bucket"] {
            guard let bucket = Bucket(rawValue: name) else { throw invalid("bucket", "must be minute, hour or day") }
            self.bucket = bucket
            let boundaries = try Self.boundaries(from: from, to: to, bucket: bucket, zone: zone)
            plan = BucketPlan(boundaries: boundaries)
        } else {
            bucket = nil
            plan = BucketPlan(boundaries: [from, to])
        }
    }

    /// `from`, every start of a minute, hour or day of `zone` inside the range, and `to`.
    static func boundaries(from: Int64, to: Int64, bucket: Bucket, zone: TimeZone) throws -> [Int64] {
        let minute = Resolution.minute.length
        if bucket == .minute {
            guard (to - from) / minute <= Int64(maxSlots) else {
                throw JSONFieldError(field: "bucket", "at most \(maxSlots) slots per series; ask for a coarser bucket or a shorter range")
            }
            return Array(stride(from: from, to: to, by: Int(minute))) + [to]
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let component: Calendar.Component = bucket == .hour ? .hour : .day
        var boundaries = [from]
        var at = from
        while at < to {
            let date = Date(timeIntervalSince1970: Double(at) / 1e6)
            guard let end = calendar.dateInterval(of: component, for: date)?.end else { break }
            // Zones whose offset has seconds (old local mean times) still cut at a minute.
            let next = max(at + minute, Resolution.minute.floor(Int64((end.timeIntervalSince1970 * 1e6).rounded())))
            at = min(next, to)
            boundaries.append(at)
            guard boundaries.count <= maxSlots + 1 else {
                throw JSONFieldError(field: "bucket", "at most \(maxSlots) slots per series; ask for a coarser bucket or a shorter range")
            }
        }
        return boundaries
    }
}
