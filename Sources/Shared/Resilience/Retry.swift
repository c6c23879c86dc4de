import NIOConcurrencyHelpers

/// How often and how patiently to retry.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var backoff: Backoff

    /// Defaults: 3 attempts, 20 ms then 40 ms (jittered), at most 500 ms.
    public init(maxAttempts: Int = 3, backoff: Backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500))) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
    }
}

/// Caps retries to a share of first attempts, so retries cannot multiply load on a
/// dependency that is already struggling (a retry storm).
///
/// Each first attempt deposits `ratio` of a token, each retry takes a whole one; the balance
/// is capped at `maxTokens` and starts at `minTokens`, so a quiet client may still retry.
public final class RetryBudget: Sendable {
    public let ratio: Double
    public let maxTokens: Double
    private let balance: NIOLockedValueBox<Double>

    public init(ratio: Double = 0.2, minTokens: Double = 10, maxTokens: Double = 100) {
        self.ratio = ratio
        self.maxTokens = maxTokens
        self.balance = NIOLockedValueBox(minTokens)
    }

    public func recordAttempt() {
        balance.withLockedValue { $0 = min(maxTokens, $0 + ratio) }
    }

    /// Takes one token if there is one.
    public func tryWithdraw() -> Bool {
        balance.withLockedValue { balance in
            guard balance >= 1 else { return false }
            balance -= 1
            return true
        }
    }

    public var tokens: Double { balance.withLockedValue { $0 } }
}

/// Runs `operation`, retrying errors for which `isRetryable` is true with jittered backoff,
/// while the policy's attempts and the budget last. The clock's `sleep` does the waiting, so
/// tests pass a clock that does not really sleep.
public func withRetries<T: Sendable, C: Clock>(
    policy: RetryPolicy = RetryPolicy(),
    budget: RetryBudget? = nil,
    clock: C,
    isRetryable: (any Error) -> Bool = { _ in true },
    _ operation: () async throws -> T
) async throws -> T where C.Duration == Duration {
    budget?.recordAttempt()
    var attempt = 1
    while true {
        do {
            return try await operation()
        } catch {
            guard attempt < policy.maxAttempts, isRetryable(error), !(error is CancellationError),
                  budget?.tryWithdraw() ?? true
            else { throw error }
            try await clock.sleep(for: policy.backoff.delay(attempt: attempt))
            attempt += 1
        }
    }
}
