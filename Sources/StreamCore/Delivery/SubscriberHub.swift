import NIOConcurrencyHelpers

/// The instance's open delivery connections by subscriber: where the live feed hands each
/// message, and where filter deletions and shutdown close them.
final class SubscriberHub: Sendable {
    struct Usage: Sendable {
        var webSockets = 0
        var eventStreams = 0
        var subscribers = 0
        var queued = 0
        var deepestQueue = 0
    }

    private let connections = NIOLockedValueBox<[String: [ObjectIdentifier: DeliveryConnection]]>([:])

    func add(_ connection: DeliveryConnection) {
        connections.withLockedValue { $0[connection.subscriberID, default: [:]][ObjectIdentifier(connection)] = connection }
    }

    func remove(_ connection: DeliveryConnection) {
        connections.withLockedValue { all in
            all[connection.subscriberID]?[ObjectIdentifier(connection)] = nil
            if all[connection.subscriberID]?.isEmpty == true { all[connection.subscriberID] = nil }
        }
    }

    func deliver(_ message: LiveMessage, to subscriberID: Substring) {
        guard let targets = connections.withLockedValue({ $0[String(subscriberID)] }) else { return }
        for connection in targets.values { connection.offer(message) }
    }

    func close(subscribers: [String], _ reason: DeliveryConnection.CloseReason) {
        let targets = connections.withLockedValue { all in subscribers.flatMap { all[$0].map { Array($0.values) } ?? [] } }
        for connection in targets { connection.close(reason) }
    }

    func closeAll(_ reason: DeliveryConnection.CloseReason) {
        for connection in all { connection.close(reason) }
    }

    /// After the live feed was away: every connection reads what it may have missed.
    func catchUpAll() {
        for connection in all { connection.requestCatchUp() }
    }

    func keepAlive(_ transport: DeliveryConnection.Transport) {
        for connection in all where connection.transport == transport { connection.keepAlive() }
    }

    private var all: [DeliveryConnection] {
        connections.withLockedValue { $0.values.flatMap(\.values) }
    }

    var usage: Usage {
        let (subscribers, connections) = connections.withLockedValue { ($0.count, $0.values.flatMap(\.values)) }
        var usage = Usage(subscribers: subscribers)
        for connection in connections {
            switch connection.transport {
            case .webSocket: usage.webSockets += 1
            case .eventStream: usage.eventStreams += 1
            }
            let queued = connection.queued
            usage.queued += queued
            usage.deepestQueue = max(usage.deepestQueue, queued)
        }
        return usage
    }
}
