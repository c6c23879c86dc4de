import Foundation
import NIOCore
import Shared
import Testing

@Suite("JSON writer and timestamps")
struct JSONWriterTests {
    @Test func hostileStringsRoundTrip() throws {
        let hostile: [String] = ["quote\"back\\slash", "nul\u{0}ctl\u{1F}\u{7}", "line\nfeed\r\ttab", "ünï😀", "</script>", ""]
        var writer = JSONWriter()
        writer.beginObject()
        for (index, text) in hostile.enumerated() {
            writer.key("k\(index)\"")
            writer.string(text)
        }
        writer.key("nested")
        writer.value(["a": [1, 2.5, true, .null], "b": "x"])
        writer.endObject()
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: writer.buffer))
        for (index, text) in hostile.enumerated() {
            #expect(decoded["k\(index)\""] == .string(text))
        }
        #expect(decoded["nested"] == ["a": [1, 2.5, true, .null], "b": "x"])
    }

    @Test(arguments: [
        ("2026-06-01", 1_780_272_000.0), ("2026-06-01T00:00:00Z", 1_780_272_000), ("2026-06-01T02:00:00+02:00", 1_780_272_000),
        ("2026-05-31T19:30:00-04:30", 1_780_272_000), ("2026-06-01t00:00:00.250z", 1_780_272_000.25), ("1970-01-01T00:00:00Z", 0),
        ("2000-02-29T12:00:00Z", 951_825_600),
    ])
    func parsesTimestamps(_ text: String, _ seconds: Double) throws {
        #expect(try #require(Timestamp.parse(text)).timeIntervalSince1970 == seconds)
    }

    @Test(arguments: ["", "2026", "2026-13-01", "2026-06-01T25:00", "2026-06-01T00:00:00Q", "2026-06-01T00:00:00.Z", "tomorrow"])
    func refusesTimestamps(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
