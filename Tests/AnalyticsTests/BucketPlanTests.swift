import Foundation
import Shared
import TestSupport
import Testing

@testable import AnalyticsCore

/// Which buckets answer a range: exactly the range, aligned, coarsest first; series slots
/// at the hours and days of a time zone, odd offsets and daylight saving included.
@Suite("Bucket plans")
struct BucketPlanTests {
    static let minute = Resolution.minute.length
    static let hour = Resolution.hour.length
    static let day = Resolution.day.length

    @Test func aRangeIsTiledExactlyWithAlignedBuckets() {
        var random = SplitMix(seed: 3)
        for _ in 0..<2_000 {
            let from = Int64(random.next() % 50_000) * Self.minute
            let to = from + Int64(1 + random.next() % 20_000) * Self.minute
            var at = from
            var previous: Resolution?
            BucketPlan.tile(from: from, to: to) { resolution, lo, hi in
                #expect(lo == at && hi > lo && hi <= to)
                #expect(lo % resolution.length == 0 && hi % resolution.length == 0, "\(resolution) \(lo) \(hi)")
                #expect(previous != resolution, "runs of one resolution are merged")
                previous = resolution
                at = hi
            }
            #expect(at == to)
        }
    }

    @Test func aUTCDayIsOneBucketAndATrailingDayAFewScore() {
        let start = Int64(20_000) * Self.day
        var segments: [BucketPlan.Segment] = []
        segments = BucketPlan(boundaries: [start, start + Self.day]).segments
        #expect(segments == [.init(slot: 0, resolution: .day, from: start, to: start + Self.day)])
        let from = start + 7 * Self.hour + 25 * Self.minute
        let trailing = BucketPlan(boundaries: [from, from + Self.day]).segments
        let buckets = trailing.reduce(Int64(0)) { $0 + ($1.to - $1.from) / $1.resolution.length }
        #expect(buckets == 35 + 23 + 25, "\(trailing)")
    }

    @Test func seriesFollowTheZonesHoursAndDays() throws {
        // Kathmandu is UTC+05:45: its hours start at :15 past UTC hours.
        let from = Int64(20_000) * Self.day
        let hours = try SummaryQuery.boundaries(from: from, to: from + 3 * Self.hour, bucket: .hour, zone: TimeZone(identifier: "Asia/Kathmandu")!)
        #expect(hours.map { ($0 - from) / Self.minute } == [0, 15, 75, 135, 180])
        // New York's days around the 2026 spring change (8 March): 24, 23, 24 hours.
        let march7 = Timestamp.parseDateTime("2026-03-07T05:00:00Z")!
        let days = try SummaryQuery.boundaries(from: march7, to: march7 + 3 * Self.day, bucket: .day, zone: TimeZone(identifier: "America/New_York")!)
        #expect(zip(days, days.dropFirst()).map { ($1 - $0) / Self.hour } == [24, 23, 24, 1])
        #expect(throws: JSONFieldError.self) {
            try SummaryQuery.boundaries(from: from, to: from + 30 * Self.day, bucket: .minute, zone: TimeZone(identifier: "UTC")!)
        }
    }

    @Test func queriesNameTheFieldTheyRefuse() {
        let now = Int64(20_000) * Self.day
        let cases: [([String: String], String)] = [
            ([:], "type"),
            (["type": "a b", "period": "hour"], "type"),
            (["type": "cpu"], "period"),
            (["type": "cpu", "period": "yearly"], "period"),
            (["type": "cpu", "period": "hour", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"], "period"),
            (["type": "cpu", "from": "2026-01-01T00:00:00Z"], "to"),
            (["type": "cpu", "from": "2026-01-01", "to": "2026-01-02T00:00:00Z"], "from"),
            (["type": "cpu", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"], "to"),
            (["type": "cpu", "from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"], "to"),
            (["type": "cpu", "period": "hour", "bucket": "week"], "bucket"),
            (["type": "cpu", "period": "hour", "tz": "Mars/Olympus"], "tz"),
            (["type": "cpu", "period": "hour", "tz": "../../../etc/passwd"], "tz"),
            (["type": "cpu", "period": "monthly", "bucket": "minute"], "bucket"),
        ]
        for (parameters, field) in cases {
            do {
                _ = try SummaryQuery(parameters, now: now, maxRange: .seconds(400 * 86_400))
                Issue.record("\(parameters) was accepted")
            } catch let error as JSONFieldError {
                #expect(error.field == field, "\(parameters): \(error)")
            } catch {
                Issue.record("\(parameters): \(error)")
            }
        }
        let daily = try? SummaryQuery(["type": "cpu", "period": "daily"], now: now + 90 * 1_000_000, maxRange: .seconds(86_400))
        #expect(daily?.to == now + 2 * Self.minute && daily?.from == now + 2 * Self.minute - Self.day)
    }
}
