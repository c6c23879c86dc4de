import NIOConcurrencyHelpers

/// Drains an async sequence in the background, so tests wait for an element with a deadline
/// (``waitFor(timeout:_:)``) instead of awaiting `next()`, which could hang forever.
public final class EventCollector<Element: Sendable>: Sendable {
    private let events = NIOLockedValueBox<[Element]>([])
    private let task: Task<Void, Never>

    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let events = self.events
        task = Task {
            do {
                for try await element in sequence { events.withLockedValue { $0.append(element) } }
            } catch {}
        }
    }

    deinit { task.cancel() }

    public var all: [Element] { events.withLockedValue { $0 } }

    /// The first element collected so far, or arriving before `timeout`, that `matches`.
    public func waitFor(timeout: Duration = .seconds(10), _ matches: @escaping (Element) -> Bool) async -> Element? {
        var found: Element?
        _ = await eventually(timeout: timeout) {
            found = self.all.first(where: matches)
            return found != nil
        }
        return found
    }

    /// Waits until more than `count` elements arrived; returns those after the first `count`.
    public func waitForMore(than count: Int, timeout: Duration = .seconds(10)) async -> [Element] {
        _ = await eventually(timeout: timeout) { self.all.count > count }
        return Array(all.dropFirst(count))
    }
}
