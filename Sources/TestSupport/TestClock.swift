import NIOConcurrencyHelpers

/// A clock that moves only when a test advances it, so time-dependent code is tested exactly.
/// `sleep` returns at once after advancing the clock by the requested amount, so code that
/// waits (retries) runs without real delays and the test can read how long it "waited".
public final class TestClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = NIOLockedValueBox(Instant(offset: .zero))

    public init() {}

    public var now: Instant { current.withLockedValue { $0 } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func advance(by duration: Duration) {
        current.withLockedValue { $0 = $0.advanced(by: duration) }
    }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        current.withLockedValue { if $0 < deadline { $0 = deadline } }
    }
}
