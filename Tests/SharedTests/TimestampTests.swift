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
}
