/// A call refused by an open breaker, without touching the dependency.
public struct CircuitOpenError: Error, CustomStringConvertible, Sendable {
    public let dependency: String
    public let retryAfter: Duration

    public init(dependency: String, retryAfter: Duration) {
        self.dependency = dependency
        self.retryAfter = retryAfter
    }

    public var description: String { "circuit for \(dependency) is open" }
}
