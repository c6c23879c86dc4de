import Foundation
import NIOCore
import NIOPosix

/// Bytes straight onto a loopback socket, for requests the HTTP client would not send as
/// they are (a WebSocket handshake, a `Connection` header naming other fields).
public enum RawHTTP {
    /// Sends `request` unchanged to `127.0.0.1:port` and returns everything the server sends
    /// until it closes the connection, or until `complete` says the answer is whole.
    public static func exchange(port: Int, _ request: String, complete: @Sendable (String) -> Bool = { _ in false }) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var answer = ""
            for try await buffer in inbound {
                answer += String(buffer: buffer)
                if complete(answer) { break }
            }
            return answer
        }
    }

    /// Whether `answer` holds a whole response head and the `Content-Length` bytes of body
    /// it announces (ASCII bodies, as the tests send).
    @Sendable public static func hasWholeBody(_ answer: String) -> Bool {
        guard let end = answer.range(of: "\r\n\r\n") else { return false }
        let head = answer[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return answer[end.upperBound...].utf8.count >= length
    }
}
