import Foundation

/// Timestamps in answers: ISO 8601 with milliseconds, UTC (`2026-11-22T23:26:25.522Z`).
///
/// Formatted by hand: Foundation's ISO8601DateFormatter builds an ICU formatter per call on
/// Linux, which cost milliseconds per request on hot routes.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        // Truncate to the millisecond like Foundation, nudged by 0.1 µs: a Date holds about
        // that much precision (it counts from 2001), so an exact millisecond can come back a
        // hair below itself (-0.001 s reads as -0.0010000467 s) and would truncate a whole
        // millisecond short.
        let millis = Int64((date.timeIntervalSince1970 * 1000 + 1e-4).rounded(.down))
        var seconds = time_t(millis / 1000)
        var fraction = Int(millis % 1000)
        if fraction < 0 {
            fraction += 1000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
            + "." + pad(Int32(fraction), 3) + "Z"
    }
}
