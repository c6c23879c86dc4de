import Foundation

/// How long a client connection may sit idle or take to send a request head, and how many
/// may be open at once: what keeps one client from holding a service's descriptors.
///
/// | variable | default | |
/// |---|---|---|
/// | `HTTP_IDLE_TIMEOUT_MS` | 60000 | a keep-alive connection with nothing in flight is closed after this long silent (nginx: 75 s) |
/// | `HTTP_HEADER_TIMEOUT_MS` | 20000 | a request head must be complete this long after its first byte, or after the connection opened; else 408 and close (nginx: 60 s) |
/// | `HTTP_MAX_CONNECTIONS` | 10000, or ¾ of the descriptor limit if that is lower | past it, a new connection is answered 503 with `Retry-After` and closed |
///
/// A connection whose request is being answered (a long poll, an event stream, a WebSocket
/// after its upgrade) is never cut by these timers.
public struct ConnectionLimits: Sendable, Equatable {
    public var idleTimeout: Duration
    public var headerTimeout: Duration
    public var maxConnections: Int

    public init(idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(20), maxConnections: Int = Self.defaultMaxConnections) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = maxConnections
    }

    public init(environment env: EnvironmentReader) {
        let defaults = ConnectionLimits()
        self.init(
            idleTimeout: env.milliseconds("HTTP_IDLE_TIMEOUT_MS", default: defaults.idleTimeout),
            headerTimeout: env.milliseconds("HTTP_HEADER_TIMEOUT_MS", default: defaults.headerTimeout),
            maxConnections: env.int("HTTP_MAX_CONNECTIONS", default: defaults.maxConnections)
        )
    }

    /// 10,000, or three quarters of the process's descriptor limit when that is lower: the
    /// rest is left for the pools, the log and the listening socket.
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 10_000 }
        // Unlimited is the largest value, clamped to Int.max here.
        return max(1, min(10_000, Int(clamping: limit.rlim_cur) / 4 * 3))
    }
}
