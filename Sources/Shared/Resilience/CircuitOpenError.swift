/// A call refused by an open breaker, without touching the dependency.
public struct CircuitOpenError: Error, CustomStringConvertible, Sendable {
    public let dependency: String
    public let retryAfter: Duration

    public var description: String { "circuit for \(dependency) is open" }
}
