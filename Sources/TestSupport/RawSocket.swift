import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain loopback TCP socket the test drives byte by byte: for a client that stops
/// reading (its receive buffer kept small), or that sends frames no client library would.
public final class RawSocket: @unchecked Sendable {
    private let descriptor: Int32
    /// Everything read so far.
    public private(set) var received: [UInt8] = []

    /// Connects to `127.0.0.1:port`; `receiveBuffer` sets `SO_RCVBUF` first (the kernel
    /// doubles it and keeps a floor).
    public init(port: Int, receiveBuffer: Int? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: errno \(errno)") }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure("connect: errno \(errno)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(descriptor) }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EAGAIN { continue }
                throw Failure("send: errno \(errno)")
            }
            offset += sent
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads what has arrived until `done` holds for everything read, the peer closes, or
    /// `timeout` passes; returns whether the peer closed.
    @discardableResult
    public func read(timeout: Duration = .seconds(10), until done: ([UInt8]) -> Bool = { _ in false }) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += chunk[0..<count]
                if done(received) { return false }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// A WebSocket upgrade request for `path`.
    public static func handshake(_ path: String, headers: [String: String] = [:]) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
    }

    /// The server's frames in `bytes` after the handshake's response head: opcode and payload.
    public static func frames(_ bytes: [UInt8]) -> [(opcode: UInt8, payload: [UInt8])] {
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: [13, 10, 13, 10]) }) else { return [] }
        var index = end + 4
        var frames: [(UInt8, [UInt8])] = []
        while index + 2 <= bytes.count {
            let opcode = bytes[index] & 0x0F
            var length = Int(bytes[index + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard index + 4 <= bytes.count else { break }
                length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
                header = 4
            } else if length == 127 {
                guard index + 10 <= bytes.count else { break }
                length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[index + $1]) }
                header = 10
            }
            guard index + header + length <= bytes.count else { break }
            frames.append((opcode, Array(bytes[(index + header)..<(index + header + length)])))
            index += header + length
        }
        return frames
    }

    /// The close code of the first close frame in `bytes`, if any.
    public static func closeCode(_ bytes: [UInt8]) -> Int? {
        guard let close = frames(bytes).first(where: { $0.opcode == 8 }), close.payload.count >= 2 else { return nil }
        return Int(close.payload[0]) << 8 | Int(close.payload[1])
    }

    /// A masked client frame (as clients must send them).
    public static func clientFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65_536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask: [UInt8] = [1, 2, 3, 4]
        frame += mask
        frame += payload.enumerated().map { $1 ^ mask[$0 % 4] }
        return frame
    }
}
