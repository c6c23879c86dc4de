/// An error reply from Redis (`-ERR …`, `-NOSCRIPT …`, `-WRONGTYPE …`).
///
/// Connection problems are ``DependencyUnavailableError`` instead, so callers can tell
/// "Redis said no" from "Redis is not there".
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    /// The error's code word, e.g. `NOSCRIPT`, `BUSYGROUP`.
    public var code: Substring { message.prefix { $0 != " " } }

    public var description: String { "redis error: \(message)" }
}
