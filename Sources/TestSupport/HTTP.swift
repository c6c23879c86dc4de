import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Shared

/// A small HTTP client for tests (loopback only), answering status, headers and body.
public enum HTTP {
    public struct Result: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        public let elapsed: Duration
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
        public func header(_ name: String) -> String? { headers[name.lowercased()] }

        /// The body as JSON, or an error naming the status and the body it got instead.
        public func requireJSON() throws -> JSONValue {
            guard let json else { throw NotJSON(status: status, body: text) }
            return json
        }
    }

    /// An answer that was expected to be JSON and was not.
    public struct NotJSON: Error, CustomStringConvertible {
        public let status: Int
        public let body: String
        public var description: String { "status \(status), not JSON: \(body.prefix(500))" }
    }

    public static func get(_ url: String, headers: [String: String] = [:], timeout: Duration = .seconds(5)) async throws -> Result {
        try await send(url, method: .GET, headers: headers, body: nil, timeout: timeout)
    }

    public static func post(_ url: String, json: String, headers: [String: String] = [:], timeout: Duration = .seconds(5)) async throws -> Result {
        try await send(
            url,
            method: .POST,
            headers: headers.merging(["content-type": "application/json"]) { $1 },
            body: Array(json.utf8),
            timeout: timeout
        )
    }

    public static func post(_ url: String, bytes: [UInt8], headers: [String: String] = [:], timeout: Duration = .seconds(5)) async throws -> Result {
        try await send(url, method: .POST, headers: headers, body: bytes, timeout: timeout)
    }

    public static func send(_ url: String, method: HTTPMethod, headers: [String: String], body: [UInt8]?, timeout: Duration) async throws -> Result {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let start = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
        let collected = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Result(status: Int(response.status.code), headers: fields, body: Array(buffer: collected), elapsed: ContinuousClock.now - start)
    }
}
