import Foundation
import Shared
import Testing

@Suite("Timestamps")
struct TimestampTests {
    @Test func iso8601WithMillisecondsInUTC() {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 1_795_386_825.5229)) == "2026-11-22T22:33:45.522Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        // Agrees with Foundation's formatter, which it replaces on hot paths.
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        let foundation = ISO8601DateFormatter.string(from: date, timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        #expect(Timestamp.iso8601(date) == foundation)
    }

    @Test func strictDateTimesNeedAnOffsetAndARealDay() {
        let base = Timestamp.parseDateTime("2026-12-02T07:25:06Z")
        #expect(base == 1_796_196_306_000_000)
        #expect(Timestamp.parseDateTime("2026-12-02T08:25:06+01:00") == base)
        #expect(Timestamp.parseDateTime("2026-12-02T01:40:06-05:45") == base)
        #expect(Timestamp.parseDateTime("2026-12-02t07:25:06.123456789z") == base.map { $0 + 123_456 })
        #expect(Timestamp.parseDateTime("2024-02-29T00:00:00Z") != nil)
        for bad in [
            "2026-12-02", "2026-12-02T07:25:06", "2026-12-02T07:25Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-12-02T24:00:00Z", "2026-12-02T07:25:60Z", "2026-12-02T07:25:06.Z", "2026-12-02T07:25:06+0100",
            "2026-12-02T07:25:06+24:00", "2026-12-02T07:25:06Z ", "+2026-12-02T07:25:06Z", "2026-12-02T07:25:06.1234567890123456789012Z",
        ] {
            #expect(Timestamp.parseDateTime(bad) == nil, "\(bad)")
        }
        #expect(Timestamp.iso8601(microseconds: 1_796_196_306_000_000) == "2026-12-02T07:25:06.000Z")
        #expect(Timestamp.iso8601(microseconds: 1_796_196_306_123_000) == "2026-12-02T07:25:06.123Z")
        #expect(Timestamp.iso8601(microseconds: 1_796_196_306_123_456) == "2026-12-02T07:25:06.123456Z")
        #expect(Timestamp.iso8601(microseconds: -1) == "1969-12-31T23:59:59.999999Z")
    }
}
