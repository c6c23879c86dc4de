import Foundation
import HummingbirdWSClient
import Logging
import Shared

/// One page of a ``HeadlessBrowser``: DevTools commands, one at a time.
public final class BrowserPage: @unchecked Sendable {
    var inbound: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter
    var nextID = 0

    init(inbound: WebSocketInboundMessageStream.AsyncIterator, outbound: WebSocketOutboundWriter) {
        self.inbound = inbound
        self.outbound = outbound
    }

    public struct ProtocolError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends a DevTools command and returns its `result`, skipping the events in between.
    @discardableResult
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        nextID += 1
        let id = nextID
        let command = JSONValue.object(["id": .number(Double(id)), "method": .string(method), "params": .object(params)])
        try await outbound.write(.text(String(decoding: try JSONEncoder().encode(command), as: UTF8.self)))
        while let message = try await inbound.next() {
            guard case .text(let text) = message, let reply = try? JSONValue.parse(Data(text.utf8)),
                reply["id"] == .number(Double(id))
            else { continue }
            if let error = reply["error"] { throw ProtocolError(description: "\(method): \(error)") }
            return reply["result"] ?? .null
        }
        throw ProtocolError(description: "\(method): the browser closed the connection")
    }

    public func navigate(_ url: String) async throws {
        try await call("Page.navigate", ["url": .string(url)])
    }

    /// The value of a JavaScript expression that evaluates to a string (nil otherwise).
    public func evaluate(_ expression: String) async throws -> String? {
        let result = try await call("Runtime.evaluate", ["expression": .string(expression), "returnByValue": true])
        if case .string(let value)? = result["result"]?["value"] { return value }
        return nil
    }

    /// Saves what the page shows as a PNG in ``HeadlessBrowser/artifactsDirectory``; its path.
    @discardableResult
    public func screenshot(_ name: String) async throws -> String {
        let result = try await call("Page.captureScreenshot", ["format": "png"])
        guard case .string(let base64)? = result["data"], let png = Data(base64Encoded: base64) else {
            throw ProtocolError(description: "Page.captureScreenshot: no data")
        }
        try FileManager.default.createDirectory(atPath: HeadlessBrowser.artifactsDirectory, withIntermediateDirectories: true)
        let path = HeadlessBrowser.artifactsDirectory + "/" + name + ".png"
        try png.write(to: URL(fileURLWithPath: path))
        return path
    }
}
