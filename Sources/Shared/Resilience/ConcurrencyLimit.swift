import NIOConcurrencyHelpers

/// Bounds how many long-lived things (streams, relays, in-flight proxied requests) run at
/// once: at most `total` in all and `perClient` for any one client, so one client can never
/// hold every slot of something shared.
public final class ConcurrencyLimit: Sendable {
    /// One held slot; ``release()`` gives it back (once, however often it is called).
    public final class Slot: Sendable {
        private let limit: ConcurrencyLimit
        private let client: String
        private let released = NIOLockedValueBox(false)

        fileprivate init(limit: ConcurrencyLimit, client: String) {
            self.limit = limit
            self.client = client
        }

        public func release() {
            guard
                released.withLockedValue({ done in
                    defer { done = true }
                    return !done
                })
            else { return }
            limit.give(client)
        }

        deinit { release() }
    }

    /// Why a slot was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// This client holds `perClient` slots already.
        case client
        /// All `total` slots are taken.
        case full
    }

    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    public let total: Int
    public let perClient: Int
    private let state = NIOLockedValueBox(State())

    public init(total: Int, perClient: Int) {
        self.total = max(1, total)
        self.perClient = max(1, min(perClient, total))
    }

    /// A slot for `client`, or the reason there is none.
    public func acquire(_ client: String) -> Result<Slot, Refusal> {
        let refusal = state.withLockedValue { state -> Refusal? in
            if state.total >= total { return .full }
            let held = state.perClient[client, default: 0]
            if held >= perClient { return .client }
            state.total += 1
            state.perClient[client] = held + 1
            return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(Slot(limit: self, client: client))
    }

    fileprivate func give(_ client: String) {
        state.withLockedValue { state in
            state.total -= 1
            let held = state.perClient[client, default: 1] - 1
            state.perClient[client] = held > 0 ? held : nil
        }
    }
}

extension ProblemDetails {
    /// 429 for a client over its share, 503 when every slot is taken.
    public static func noSlot(_ refusal: ConcurrencyLimit.Refusal, what: String) -> ProblemDetails {
        switch refusal {
        case .client:
            ProblemDetails.rateLimited(retryAfter: .seconds(1), detail: "too many concurrent \(what) from this client")
        case .full:
            ProblemDetails(
                status: .serviceUnavailable,
                type: "/problems/busy",
                detail: "every \(what) slot is taken",
                headers: [.retryAfter: "1"]
            )
        }
    }
}
