import NIOConcurrencyHelpers
import Testing

/// Drains an async sequence in the background, so tests wait for an element with a deadline
/// (``waitFor(timeout:sourceLocation:_:)``) instead of awaiting `next()`, which could hang
/// forever. How the sequence ended is kept: a wait that times out says so in its issue.
public final class EventCollector<Element: Sendable>: Sendable {
    private struct State {
        var events: [Element] = []
        var ending: String?
    }

    private let state = NIOLockedValueBox(State())
    private let task: Task<Void, Never>

    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let state = self.state
        task = Task {
            do {
                for try await element in sequence { state.withLockedValue { $0.events.append(element) } }
                state.withLockedValue { $0.ending = "the stream ended" }
            } catch {
                state.withLockedValue { $0.ending = "the stream failed: \(error)" }
            }
        }
    }

    deinit { task.cancel() }

    public var all: [Element] { state.withLockedValue { $0.events } }

    /// How the sequence ended (nil while it is open).
    public var ending: String? { state.withLockedValue { $0.ending } }

    /// The first element collected so far, or arriving before `timeout`, that `matches`. When
    /// none does and the stream ended on the way, the running test gets an issue saying how.
    public func waitFor(
        timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ matches: @escaping (Element) -> Bool
    ) async -> Element? {
        var found: Element?
        _ = await poll(timeout: timeout) {
            found = self.all.first(where: matches)
            return found != nil || self.ending != nil
        }
        found = all.first(where: matches)
        if found == nil { recordEnding(sourceLocation) }
        return found
    }

    /// Waits until more than `count` elements arrived; returns those after the first `count`.
    public func waitForMore(than count: Int, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation) async -> [Element] {
        _ = await poll(timeout: timeout) { self.all.count > count || self.ending != nil }
        let more = Array(all.dropFirst(count))
        if more.isEmpty { recordEnding(sourceLocation) }
        return more
    }

    private func recordEnding(_ sourceLocation: SourceLocation) {
        if let ending, Test.current != nil {
            Issue.record("no matching element: \(ending) after \(all.count) elements", sourceLocation: sourceLocation)
        }
    }
}
