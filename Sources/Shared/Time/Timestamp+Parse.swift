import Foundation

extension Timestamp {
    /// Parses RFC 3339 / ISO 8601 timestamps: `2026-11-22`, `2026-11-22T23:26:25Z`,
    /// `2026-11-22T23:26:25.522+01:00` (a missing zone means UTC). Nil for anything else.
    ///
    /// By hand for the same reason as ``iso8601(_:)``: flag conditions parse dates per
    /// evaluation, and Foundation's parsers cost microseconds each on Linux.
    public static func parse(_ text: String) -> Date? {
        var utf8 = Array(text.utf8)[...]
        func digits(_ count: Int) -> Int? {
            guard utf8.count >= count else { return nil }
            var value = 0
            for byte in utf8.prefix(count) {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            utf8 = utf8.dropFirst(count)
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard utf8.first == byte else { return false }
            utf8 = utf8.dropFirst()
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if utf8.isEmpty { return Date(timeIntervalSince1970: seconds) }
        guard let separator = utf8.first, separator == 0x54 || separator == 0x74 || separator == 0x20 else { return nil }
        utf8 = utf8.dropFirst()
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), hour < 24, minute < 60 else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if expect(0x3A) {
            guard let second = digits(2), second <= 60 else { return nil }
            seconds += Double(second)
            if expect(0x2E) {
                var scale = 0.1
                var any = false
                while let byte = utf8.first, byte >= 0x30 && byte <= 0x39 {
                    seconds += Double(byte - 0x30) * scale
                    scale /= 10
                    any = true
                    utf8 = utf8.dropFirst()
                }
                guard any else { return nil }
            }
        }
        if utf8.isEmpty || expect(0x5A) || expect(0x7A) {
            return utf8.isEmpty ? Date(timeIntervalSince1970: seconds) : nil
        }
        guard let sign = utf8.first, sign == 0x2B || sign == 0x2D else { return nil }
        utf8 = utf8.dropFirst()
        guard let offsetHours = digits(2) else { return nil }
        _ = expect(0x3A)
        let offsetMinutes = utf8.isEmpty ? 0 : digits(2)
        guard let offsetMinutes, utf8.isEmpty, offsetHours < 24, offsetMinutes < 60 else { return nil }
        let offset = Double(offsetHours * 3600 + offsetMinutes * 60)
        return Date(timeIntervalSince1970: sign == 0x2B ? seconds - offset : seconds + offset)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
