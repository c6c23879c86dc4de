import Testing

/// What a ``poll(timeout:every:_:)`` found: whether the condition held before the deadline,
/// and the last error its evaluation threw on the way (the reason a wait failed, usually).
public struct Poll: Sendable {
    public let held: Bool
    public let lastError: String?

    /// Why it never held, for a failure message.
    public var explanation: String {
        held ? "held" : "never held" + (lastError.map { "; last error: \($0)" } ?? "")
    }
}

/// Polls `condition` until it holds or `timeout` passes, keeping the last error it threw. The
/// poll replaces sleeps: the test waits exactly as long as the system needs, up to a deadline.
public func poll(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(25),
    _ condition: () async throws -> Bool
) async -> Poll {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    func attempt() async -> Bool {
        do {
            return try await condition()
        } catch {
            lastError = error
            return false
        }
    }
    while ContinuousClock.now < deadline {
        if await attempt() { return Poll(held: true, lastError: nil) }
        try? await Task.sleep(for: interval)
    }
    let held = await attempt()
    return Poll(held: held, lastError: held ? nil : lastError.map { String(describing: $0) })
}

/// ``poll(timeout:every:_:)`` for a test's expectation: whether `condition` held in time. When
/// it never did and threw on the way, the last error is recorded as an issue of the running
/// test (an error turned into `false` would otherwise leave only "false" in the failure).
public func eventually(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(25),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async -> Bool {
    let result = await poll(timeout: timeout, every: interval, condition)
    if result.lastError != nil, Test.current != nil {
        Issue.record("condition \(result.explanation) within \(timeout)", sourceLocation: sourceLocation)
    }
    return result.held
}
