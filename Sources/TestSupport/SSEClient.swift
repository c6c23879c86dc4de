import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A Server-Sent Events client for tests: parses the stream into events, collected in the
/// background so tests wait for them with deadlines.
public final class SSEClient: Sendable {
    public struct Event: Sendable, Equatable {
        public var id: String?
        public var event: String
        public var data: String
    }

    public let status: Int
    public let contentType: String?
    public let events: EventCollector<Event>

    public init(_ url: String, headers: [String: String] = [:]) async throws {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        status = Int(response.status.code)
        contentType = response.headers.first(name: "content-type")
        let body = response.body
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Event.self)
        Task {
            var pending = ""
            var current = Event(id: nil, event: "message", data: "")
            var hasData = false
            do {
                for try await chunk in body {
                    pending += String(buffer: chunk)
                    while let newline = pending.firstIndex(of: "\n") {
                        let line = String(pending[..<newline])
                        pending = String(pending[pending.index(after: newline)...])
                        if line.isEmpty {
                            if hasData { continuation.yield(current) }
                            current = Event(id: nil, event: "message", data: "")
                            hasData = false
                        } else if line.hasPrefix("id: ") {
                            current.id = String(line.dropFirst(4))
                        } else if line.hasPrefix("event: ") {
                            current.event = String(line.dropFirst(7))
                        } else if line.hasPrefix("data: ") {
                            current.data += (hasData ? "\n" : "") + line.dropFirst(6)
                            hasData = true
                        }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        events = EventCollector(stream)
    }

    /// The id of the last event received that had one.
    public var lastID: String? { events.all.last(where: { $0.id != nil })?.id }
}
