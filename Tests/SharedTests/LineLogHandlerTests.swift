import Foundation
import Logging
import NIOConcurrencyHelpers
import Shared
import Testing

@Suite("Log lines")
struct LineLogHandlerTests {
    func logger(_ format: LogFormat) -> (Logger, NIOLockedValueBox<[String]>) {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "test") { label in
            LineLogHandler(label: label, format: format) { data in lines.withLockedValue { $0.append(String(decoding: data, as: UTF8.self)) } }
        }
        logger[metadataKey: "request.id"] = "r-1"
        logger[metadataKey: "z.last"] = "old"
        return (logger, lines)
    }

    @Test func jsonIsOneObjectPerLineWithFlatKeys() throws {
        let (logger, lines) = logger(.json)
        logger.debug("not written at info")
        logger.warning("upstream unreachable", metadata: ["z.last": "new", "gateway.service": "flags"])
        let written = lines.withLockedValue { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "upstream unreachable" && object["level"] == "warning" && object["label"] == "test")
        #expect(object["request.id"] == "r-1" && object["gateway.service"] == "flags" && object["z.last"] == "new")
        #expect(object["ts"].map { Timestamp.parse($0) != nil } == true)
    }

    @Test func textIsTheMessageThenSortedKeys() throws {
        let (logger, lines) = logger(.text)
        logger.info("request", metadata: ["http.status": "200"])
        let line = try #require(lines.withLockedValue { $0 }.first)
        let afterTimestamp = line.drop { $0 != " " }.dropFirst()
        #expect(afterTimestamp == "info test: request http.status=200 request.id=r-1 z.last=old\n")
    }

    /// A value from a client (a path, a header) cannot forge a log line or a field.
    @Test func textValuesAreEscapedAndQuoted() throws {
        let (logger, lines) = logger(.text)
        logger.info("probe\nforged", metadata: ["http.path": "/x\n2026-01-01 critical forged: owned", "a": "b c=d", "e": "q\"\u{1B}[31m"])
        let line = try #require(lines.withLockedValue { $0 }.first)
        #expect(line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"))
        let afterTimestamp = line.drop { $0 != " " }.dropFirst()
        #expect(
            afterTimestamp
                == #"info test: probe\nforged a="b c=d" e="q\"\u{1b}[31m" http.path="/x\n2026-01-01 critical forged: owned" request.id=r-1 z.last=old"#
                + "\n"
        )
    }
}
