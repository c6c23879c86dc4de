import Foundation
import NIOConcurrencyHelpers

/// Runs helper commands for tests on their own thread, so waiting for a child process never
/// blocks the cooperative pool.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: [String]
        public let status: Int32
        public let output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a command to completion. posix_spawn and waitpid, not Foundation's Process: its
    /// waitUntilExit can miss the exit of a child whose own children daemonize.
    @discardableResult
    public static func run(_ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                // Output goes to a file, not a pipe: daemons the command starts (redis-server
                // --daemonize, pg_ctl start) inherit it and would hold a pipe open.
                let outputPath = NSTemporaryDirectory() + "shell-\(UUID().uuidString).out"
                defer { unlink(outputPath) }
                let pid: pid_t
                do {
                    pid = try spawn(arguments, outputPath: outputPath, searchPath: true)
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                let code = exitCode(status)
                if code == 0 {
                    continuation.resume(returning: output)
                } else {
                    continuation.resume(throwing: Failure(command: arguments, status: code, output: output))
                }
            }
        }
    }

    public static func infra(_ arguments: String...) async throws {
        try await run(["bash", TestEnvironment.infraScript] + arguments)
    }
}

/// Ports already handed out in this test process, so two tests starting servers at once
/// never get the same one.
private let handedOut = NIOLockedValueBox<Set<Int>>([])

/// Test servers listen below the kernel's ephemeral range (32768–60999 on Linux): a port
/// taken from that range with bind(0) and released can be reused by any outgoing
/// connection (a client of Redis, PostgreSQL, a test's HTTP client) before the server binds it.
/// A cluster node's bus listens on its port + 10000: cluster nodes take ports below 22768 so
/// their buses fall in 30000..<32768, a part of the span no other test server is given.
private let testPorts = 20000..<30000
private let clusterPorts = 20000..<22768

/// Starts something on a fresh port, and on a fresh port again if the port was taken between
/// the probe and the server's bind (scripts/test.sh reserves the span, which should make this
/// rare; without root it cannot). A `kept` port (a restart on a port others were told) is
/// tried again as it is.
public func onFreePort<T>(keeping kept: Int? = nil, attempts: Int = 3, _ start: (Int) async throws -> T) async throws -> T {
    try await againWhenPortTaken(attempts: attempts) { try await start(kept ?? freePort()) }
}

/// Runs `start` (which takes fresh ports each time) again while it fails because a port was
/// taken before its server bound it, up to `attempts` times.
public func againWhenPortTaken<T>(attempts: Int = 3, _ start: () async throws -> T) async throws -> T {
    for attempt in 1... {
        do {
            return try await start()
        } catch let failure as Shell.Failure where attempt < attempts && failure.output.contains("Address already in use") {
            continue
        }
    }
    fatalError("unreachable")
}

/// A TCP port nobody listens on right now, and that no other test of this run was given.
public func freePort() -> Int { freePort(in: testPorts, alsoFree: 0) }

/// A free port for a Redis Cluster node, whose bus port (+10000) is free too.
public func freeClusterPort() -> Int { freePort(in: clusterPorts, alsoFree: 10000) }

private func freePort(in ports: Range<Int>, alsoFree offset: Int) -> Int {
    let span = ports.count
    let start = Int.random(in: 0..<span)
    for step in 0..<span {
        let port = ports.lowerBound + (start + step) % span
        guard handedOut.withLockedValue({ !$0.contains(port) }), canBind(port), offset == 0 || canBind(port + offset) else { continue }
        if handedOut.withLockedValue({ $0.insert(port).inserted }) { return port }
    }
    fatalError("no free test port in \(ports)")
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    } == 0
}
