import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import Shared

@Suite("Request ids")
struct RequestIDMiddlewareTests {
    @Test func madeIDsAreDistinctLowerCaseVersion4UUIDs() throws {
        let ids = (0..<10_000).map { _ in RequestIDMiddleware.id(for: [:]) }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            #expect(uuid.uuid.6 >> 4 == 4, "version 4: \(id)")
            #expect(uuid.uuid.8 >> 6 == 0b10, "RFC 4122 variant: \(id)")
        }
        // Every hex digit position varies (no bits stuck by the formatting), except the version.
        let positions = (0..<36).filter { ![8, 13, 14, 18, 23].contains($0) }
        for position in positions {
            #expect(Set(ids.prefix(1000).map { Array($0.utf8)[position] }).count > 1, "position \(position)")
        }
    }

    @Test func aSaneClientIDIsKeptAndAnythingElseReplaced() {
        #expect(RequestIDMiddleware.id(for: [.requestID: "trace-123"]) == "trace-123")
        let forged = RequestIDMiddleware.id(for: [.requestID: "x\nlevel=error"])
        #expect(forged != "x\nlevel=error" && UUID(uuidString: forged) != nil)
    }

    /// A log line of a request holds one request id, the one the response carries.
    @Test func logLinesCarryOneRequestID() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "test") { label in
            LineLogHandler(label: label, format: .text) { data in lines.withLockedValue { $0.append(String(decoding: data, as: UTF8.self)) } }
        }
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.get("/logged") { _, context in
            context.logger.info("handled")
            return context.id
        }
        try await Application(router: router, logger: logger).test(.router) { client in
            let response = try await client.execute(uri: "/logged", method: .get, headers: [.requestID: "trace-7"])
            #expect(response.headers[.requestID] == "trace-7")
            #expect(String(buffer: response.body) == "trace-7", "context.id is the same id")
        }
        let line = try #require(lines.withLockedValue { $0 }.first { $0.contains("handled") })
        #expect(line.contains("hb.request.id=trace-7"))
        #expect(line.components(separatedBy: "request.id=").count == 2, "one request id: \(line)")
    }
}
