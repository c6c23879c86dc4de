import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// What goes out on `breaker.<caller>`.
public struct BreakerEvent: Codable, Sendable, Equatable {
    public var caller: String
    public var instance: String
    public var dependency: String
    public var from: CircuitBreaker.State
    public var to: CircuitBreaker.State
    public var reason: CircuitBreaker.Reason
    /// Unix milliseconds.
    public var at: Int64
}
