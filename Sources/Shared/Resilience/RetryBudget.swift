import NIOConcurrencyHelpers

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
