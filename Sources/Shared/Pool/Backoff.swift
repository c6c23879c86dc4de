import Foundation

/// Exponential backoff with half ("equal") jitter, used for reconnects and retries.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The ceiling of the delay before attempt `attempt` (1-based), without jitter.
    public func ceiling(attempt: Int) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let scaled = initial.seconds * pow(multiplier, exponent)
        return .seconds(min(scaled, maximum.seconds))
    }

    /// A delay drawn uniformly from [ceiling/2, ceiling]: half jitter keeps a floor so that
    /// a dependency that is down is not hammered, while spreading out synchronized clients.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt).seconds
        return .seconds(Double.random(in: (ceiling / 2)...ceiling, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
