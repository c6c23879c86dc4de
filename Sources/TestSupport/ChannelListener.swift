import Foundation
import NIOConcurrencyHelpers
import Shared
import Testing

/// Listens on pub/sub channels of a test's own Redis and hands messages out in order: each
/// ``next(timeout:sourceLocation:_:)`` looks only at messages after the one the previous call
/// returned, so an expectation cannot be met by a message that an earlier step produced.
public final class ChannelListener: Sendable {
    private let subscriber: RedisSubscriber
    private let events: EventCollector<RedisPubSubEvent>
    private let task: Task<Void, Never>
    /// Index into `events.all` of the first message not handed out yet.
    private let consumed = NIOLockedValueBox(0)

    /// Subscribes and returns once the subscription stands.
    public init(redisURL: String, channels: [String]) async throws {
        subscriber = RedisSubscriber(
            configuration: TestEnvironment.redisConfiguration(url: redisURL),
            channels: channels,
            logger: TestEnvironment.logger
        )
        events = EventCollector(subscriber.events)
        let subscriber = self.subscriber
        task = Task { try? await subscriber.run() }
        guard await events.waitFor(timeout: .seconds(10), { $0 == .subscribed }) != nil else {
            task.cancel()
            throw NotSubscribed(channels: channels)
        }
    }

    deinit { task.cancel() }

    /// Unsubscribes; returns once the subscriber has let its connection go.
    public func stop() async {
        task.cancel()
        await task.value
    }

    struct NotSubscribed: Error { let channels: [String] }

    /// The next message (after those already handed out) whose JSON payload `matches`; nil,
    /// with an issue listing what did arrive, when none does before `timeout`.
    public func next(
        timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ matches: @escaping (JSONValue) -> Bool
    ) async -> JSONValue? {
        var found: (index: Int, json: JSONValue)?
        let start = consumed.withLockedValue { $0 }
        _ = await poll(timeout: timeout) {
            found = self.messages(from: start).first { matches($0.json) }
            return found != nil
        }
        guard let found else {
            Issue.record("no matching message; after the last one taken: \(messages(from: start).map(\.json))", sourceLocation: sourceLocation)
            return nil
        }
        consumed.withLockedValue { $0 = found.index + 1 }
        return found.json
    }

    private func messages(from start: Int) -> [(index: Int, json: JSONValue)] {
        events.all.enumerated().dropFirst(start).compactMap { index, event in
            guard case .message(_, _, let payload) = event, let json = try? JSONValue.parse(Data(payload)) else { return nil }
            return (index, json)
        }
    }
}
