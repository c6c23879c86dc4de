import Foundation

extension Timestamp {
    /// Parses an RFC 3339 `date-time` strictly, to microseconds since 1970: a calendar date that
    /// exists, `T` (or `t`, or a space), seconds, an optional fraction (digits past the
    /// microsecond are dropped), and an offset that must be there (`Z` or `±hh:mm`). Nil for
    /// anything else: no date-only forms, no missing zone, no February 30th.
    public static func parseDateTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        var at = 0
        func digits(_ count: Int) -> Int? {
            guard at + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[at..<at + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            at += count
            return value
        }
        func expect(_ options: UInt8...) -> Bool {
            guard at < bytes.count, options.contains(bytes[at]) else { return false }
            at += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            expect(0x54, 0x74, 0x20), let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A),
            let second = digits(2), hour < 24, minute < 60, second < 60
        else { return nil }
        var micros = 0
        if expect(0x2E) {
            var count = 0
            while at < bytes.count, bytes[at] >= 0x30 && bytes[at] <= 0x39 {
                if count < 6 { micros = micros * 10 + Int(bytes[at] - 0x30) }
                count += 1
                at += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 6) { micros *= 10 }
        }
        var offset = 0
        if expect(0x5A, 0x7A) {
            offset = 0
        } else {
            guard at < bytes.count, bytes[at] == 0x2B || bytes[at] == 0x2D else { return nil }
            let sign = bytes[at] == 0x2B ? 1 : -1
            at += 1
            guard let hours = digits(2), expect(0x3A), let minutes = digits(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard at == bytes.count else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Int64(seconds) * 1_000_000 + Int64(micros)
    }

    /// `2026-12-02T07:25:06.123Z`, or with six fraction digits when the instant is not a whole
    /// millisecond: microseconds since 1970 in UTC, as ``parseDateTime(_:)`` reads them.
    public static func iso8601(microseconds: Int64) -> String {
        let (seconds, fraction) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let whole = fraction < 0 ? seconds - 1 : seconds
        let micros = fraction < 0 ? fraction + 1_000_000 : fraction
        let text = iso8601(Date(timeIntervalSince1970: TimeInterval(whole)))
        guard micros != 0 else { return text }
        let digits = String(micros)
        let padded = String(repeating: "0", count: 6 - digits.count) + digits
        return text.dropLast(5) + "." + (micros % 1000 == 0 ? padded.prefix(3) : padded[...]) + "Z"
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
