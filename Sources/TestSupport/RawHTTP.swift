import NIOCore
import NIOPosix

/// Bytes straight onto a loopback socket, for requests the HTTP client would not send as
/// they are (a WebSocket handshake, say).
public enum RawHTTP {
    /// Sends `request` unchanged to `127.0.0.1:port` and returns everything the server sends
    /// until it closes the connection.
    public static func exchange(port: Int, _ request: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var answer = ""
            for try await buffer in inbound { answer += String(buffer: buffer) }
            return answer
        }
    }
}
