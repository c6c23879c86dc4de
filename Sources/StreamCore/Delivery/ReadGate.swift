import NIOConcurrencyHelpers

/// Lets at most `width` reads of subscriber streams run at once; the others wait their turn.
///
/// Thousands of connections may want to read at the same moment (every connection catching
/// up after the live feed reconnected, or opening at once); unbounded, they would take every
/// pooled Redis connection and fail on the pool's deadline instead of simply queueing.
final class ReadGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: NIOLockedValueBox<State>

    init(width: Int) {
        state = NIOLockedValueBox(State(available: max(1, width)))
    }

    func run<T>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLockedValue { state -> Bool in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
