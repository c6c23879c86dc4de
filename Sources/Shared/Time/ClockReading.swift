/// Reads a `Clock` as the time elapsed since the reader was made.
///
/// Breakers, rate limits and registries store this instead of being generic over their
/// clock: they take any `Clock<Duration>` (the continuous clock in production, a test clock
/// that only moves when told in tests) and keep one non-generic type.
public struct ClockReading: Sendable {
    private let read: @Sendable () -> Duration

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        self.read = { start.duration(to: clock.now) }
    }

    /// Time since the reader was made.
    public var now: Duration { read() }
}
