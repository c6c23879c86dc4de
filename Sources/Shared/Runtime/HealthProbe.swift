#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking `GET` of a health path, for `--health-check`: what a container's
/// `HEALTHCHECK` or an exec probe runs, without curl or wget in the image.
///
/// Plain sockets rather than an HTTP client: the probe runs once in a process of its own and
/// must not need an event loop, a thread pool or anything the image does not have.
public struct HealthProbe: Sendable {
    public var host: String
    public var port: Int
    /// Bounds the connect, the write and each read.
    public var timeoutSeconds: Int

    /// A wildcard `host` (the address a service listens on) is probed on loopback.
    public init(host: String, port: Int, timeoutSeconds: Int = 3) {
        self.host =
            switch host {
            case "0.0.0.0", "*", "": "127.0.0.1"
            case "::": "::1"
            default: host
            }
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    /// The status code `path` answers with, or a sentence saying why there is none.
    public func status(of path: String) -> Result<Int, ProbeFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            return .failure(ProbeFailure("cannot resolve \(host)"))
        }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return .failure(ProbeFailure("no socket")) }
        defer { close(fd) }
        // On Linux the send timeout bounds connect(2) as well.
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return .failure(ProbeFailure("cannot connect to \(host):\(port)"))
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            return .failure(ProbeFailure("cannot send"))
        }
        // The status line is in the first bytes: "HTTP/1.1 200 OK".
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 512)
        while head.count < 12 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            head += buffer[..<count]
        }
        let line = String(decoding: head.prefix(12), as: UTF8.self)
        guard line.hasPrefix("HTTP/1."), let code = Int(line.dropFirst(9).prefix(3)) else {
            return .failure(ProbeFailure("no HTTP answer from \(host):\(port)"))
        }
        return .success(code)
    }

    /// Why a probe got no status.
    public struct ProbeFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
