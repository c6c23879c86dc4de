import Shared

/// The matching engine on its own, for tools and the matching benchmark: filters as their
/// JSON documents, events as produced.
public struct FilterMatcher: Sendable {
    /// An event parsed once, ready to match any number of times.
    public struct Event: Sendable {
        let event: StreamEvent
    }

    private let index: FilterIndex

    /// Validates every filter as `POST /filters` does (throws the first bad one's error).
    public init(filters: [JSONValue]) throws {
        index = FilterIndex(try filters.map { CompiledFilter(try SubscriberFilter(json: $0)) })
    }

    /// Validates an event as `POST /events` does.
    public static func event(_ json: JSONValue) throws -> Event {
        Event(event: try StreamEvent(json: json, now: .now))
    }

    /// How many filters `event` matches, through the index, or by checking every filter.
    public func matches(_ event: Event, scanning: Bool = false) -> Int {
        var count = 0
        if scanning {
            index.forEachMatchScanning(event.event) { _ in count += 1 }
        } else {
            index.forEachMatch(event.event) { _ in count += 1 }
        }
        return count
    }
}
