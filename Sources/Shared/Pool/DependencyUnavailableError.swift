/// A dependency (Redis, PostgreSQL, an upstream service) cannot be reached right now.
///
/// The HTTP kit renders it as `503 Service Unavailable` with `Retry-After`, and the message
/// never carries connection strings or credentials.
public struct DependencyUnavailableError: Error, CustomStringConvertible, Sendable {
    /// `redis`, `postgres`, or an upstream service name.
    public let dependency: String
    /// A short human readable reason, safe to show to clients.
    public let reason: String
    /// When it is worth trying again.
    public let retryAfter: Duration

    public init(dependency: String, reason: String, retryAfter: Duration = .seconds(1)) {
        self.dependency = dependency
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var description: String { "\(dependency) unavailable: \(reason)" }
}
