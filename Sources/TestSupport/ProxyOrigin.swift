import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import Shared

/// An upstream for the gateway's forwarding tests, served in the test process: bodies of any
/// size streamed, request bodies counted, slow answers, answers cut off or closing.
///
/// | route | answer |
/// |---|---|
/// | `GET`, `HEAD /bytes/{count}` | `count` bytes (`x`), streamed in 64 KiB writes, with `Content-Length` |
/// | `POST /count` | `{"bytes": n, "chunked": bool, "expect": …}`: what arrived, read as it came |
/// | `GET /slow/{ms}` | `ok` after `ms` milliseconds |
/// | `GET /cut` | 64 KiB of an announced 1 MB, then the connection is dropped |
/// | `GET /closing` | `closing`, with `Connection: close` |
public final class ProxyOrigin: Sendable {
    /// Requests that reached a route, and requests answered whole.
    public let received = NIOLockedValueBox(0)
    public let answered = NIOLockedValueBox(0)
    /// Body bytes `/bytes` has written so far (taken by the connection, not necessarily read).
    public let bytesWritten = NIOLockedValueBox(0)

    public init() {}

    public func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("/bytes/{count}") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            self.received.withLockedValue { $0 += 1 }
            return Response(
                status: .ok,
                headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(contentLength: count) { writer in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                    var left = count
                    while left > 0 {
                        let size = min(left, chunk.readableBytes)
                        try await writer.write(chunk.getSlice(at: 0, length: size)!)
                        self.bytesWritten.withLockedValue { $0 += size }
                        left -= size
                    }
                    self.answered.withLockedValue { $0 += 1 }
                    try await writer.finish(nil)
                }
            )
        }
        router.head("/bytes/{count}") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            return Response(status: .ok, body: ResponseBody(contentLength: count) { writer in try await writer.finish(nil) })
        }
        router.post("/count") { request, _ in
            self.received.withLockedValue { $0 += 1 }
            var bytes = 0
            for try await buffer in request.body { bytes += buffer.readableBytes }
            let answer: [String: JSONValue] = [
                "bytes": .number(Double(bytes)),
                "chunked": .bool(request.headers[.transferEncoding]?.lowercased().contains("chunked") == true),
                "expect": request.headers[.expect].map { .string($0) } ?? .null,
            ]
            self.answered.withLockedValue { $0 += 1 }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(json: .object(answer))))
        }
        router.get("/slow/{ms}") { _, context in
            let milliseconds = try context.parameters.require("ms", as: Int.self)
            self.received.withLockedValue { $0 += 1 }
            try await Task.sleep(for: .milliseconds(milliseconds))
            self.answered.withLockedValue { $0 += 1 }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        router.get("/cut") { _, _ in
            self.received.withLockedValue { $0 += 1 }
            return Response(
                status: .ok,
                body: ResponseBody(contentLength: 1_000_000) { writer in
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024))
                    throw CancellationError()
                }
            )
        }
        router.get("/closing") { _, _ in
            self.received.withLockedValue { $0 += 1 }
            return Response(status: .ok, headers: [.connection: "close"], body: .init(byteBuffer: ByteBuffer(string: "closing")))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}
