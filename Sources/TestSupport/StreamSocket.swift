import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Shared

/// A real WebSocket client of StreamFilter's `/ws/{subscriber_id}`: every text message is
/// collected as JSON in the background, with the wall-clock time it arrived added as
/// `received_ms`; the close code the server sent is kept.
public final class StreamSocket: Sendable {
    public let messages: EventCollector<JSONValue>
    private let closeCode = NIOLockedValueBox<Int?>(nil)
    private let stopSignal: AsyncStream<Void>.Continuation
    private let task: Task<Void, Never>

    public init(_ url: String, headers: [String: String] = [:]) {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: JSONValue.self)
        let (stops, stop) = AsyncStream.makeStream(of: Void.self)
        stopSignal = stop
        let closeCode = self.closeCode
        task = Task {
            do {
                let frame = try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: 1 << 22, additionalHeaders: fields, autoPing: .disabled),
                    logger: Logger(label: "test.stream.socket")
                ) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await _ in stops {}
                            try? await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: 1 << 22) {
                            guard case .text(let text) = message else { continue }
                            let arrived = JSONValue.number((Date().timeIntervalSince1970 * 1000).rounded())
                            guard case .object(var message)? = try? JSONValue.parse(Data(text.utf8)) else {
                                continuation.yield(.string(text))
                                continue
                            }
                            message["received_ms"] = arrived
                            continuation.yield(.object(message))
                        }
                        group.cancelAll()
                    }
                }
                if let code = frame?.closeCode { closeCode.withLockedValue { $0 = Self.number(code) } }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        messages = EventCollector(stream)
    }

    /// The close code the server sent, once the connection is closed.
    public var code: Int? { closeCode.withLockedValue { $0 } }

    /// Waits for the server to close; returns its close code.
    public func waitClosed(timeout: Duration = .seconds(10)) async -> Int? {
        _ = await poll(timeout: timeout) { self.messages.ending != nil }
        return code
    }

    /// The events received (`type` `event`), in order.
    public var events: [JSONValue] { messages.all.filter { $0["type"] == "event" } }

    /// The position of the last event received.
    public var lastID: String? { events.last?["id"]?.stringValue }

    /// Waits until `count` events arrived (or the connection ended); returns them all.
    @discardableResult
    public func waitForEvents(_ count: Int, timeout: Duration = .seconds(20)) async -> [JSONValue] {
        _ = await poll(timeout: timeout) { self.events.count >= count || self.messages.ending != nil }
        return events
    }

    /// Closes from the client side (1000) and waits for the connection to end.
    public func close() async {
        stopSignal.yield()
        stopSignal.finish()
        _ = await poll(timeout: .seconds(5)) { self.messages.ending != nil }
        task.cancel()
    }

    static func number(_ code: WebSocketErrorCode) -> Int {
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: code)
        return Int(buffer.readInteger(as: UInt16.self) ?? 0)
    }
}
