import Foundation
import Shared

/// Delivers one connection's events in order, from a position or from now, whatever the
/// transport.
///
/// The seam between replay and live: the connection is registered (buffering live messages)
/// before the stream is read, every message carries the position before it, and nothing at
/// or before the last position sent goes out again. So replayed and live events meet
/// without a gap or a duplicate, and a live message whose predecessor was never sent (the
/// feed lost one, or was away) makes the session read the stream again from where it is.
struct DeliverySession: Sendable {
    /// What a session sends.
    enum Outgoing: Sendable {
        case event(LiveMessage)
        /// Events after `since` were trimmed away (or the stream expired) before they could
        /// be sent; delivery goes on from `earliest`, the oldest event still held (nil: from
        /// the next new one).
        case notRecovered(since: RedisStreamID, earliest: RedisStreamID?)
        case keepAlive
    }

    let connection: DeliveryConnection
    let hub: SubscriberHub
    let stream: SubscriberStream
    let metrics: StreamMetrics
    var pageSize = 500

    /// Runs until the connection is closed by the server (the reason is returned) or the
    /// task is cancelled (the client went away). A Redis failure that outlasts a few retries
    /// ends it as ``DeliveryConnection/CloseReason/unavailable``.
    func run(since: RedisStreamID?, send: (Outgoing) async throws -> Void) async throws -> DeliveryConnection.CloseReason {
        hub.add(connection)
        defer { hub.remove(connection) }
        let subscriber = connection.subscriberID
        var last: RedisStreamID
        do {
            let end = try await retrying { try await stream.last(subscriber) }
            if let since {
                metrics.resumes.increment()
                if since > end {
                    // A position never issued (the stream expired, or the store lost its
                    // data): said so, and delivery starts from the end.
                    try await notRecovered(since: since, earliest: nil, send: send)
                    last = end
                } else {
                    last = since
                }
            } else {
                last = end
            }
            try await recover(&last, send: send)
        } catch let error where !(error is CancellationError) && !Task.isCancelled {
            if connection.closeReason == nil { connection.close(.unavailable) }
            throw error
        }
        for await signal in connection.signals {
            switch signal {
            case .event(let message):
                connection.took()
                guard message.id > last else { continue }
                if message.previous != last {
                    connection.startRecovering()
                    try await recover(&last, send: send)
                    continue
                }
                try await send(.event(message))
                last = message.id
                record(message)
            case .catchUp:
                connection.startRecovering()
                try await recover(&last, send: send)
            case .keepAlive:
                try await send(.keepAlive)
            }
        }
        return connection.closeReason ?? .clientClosed
    }

    /// Sends what the stream holds after `last`, then what arrived live meanwhile.
    private func recover(_ last: inout RedisStreamID, send: (Outgoing) async throws -> Void) async throws {
        while true {
            while true {
                let position = last
                let page = try await retrying { try await stream.entries(connection.subscriberID, after: position, count: pageSize) }
                for message in page {
                    // The entry before this one is gone: trimmed by retention.
                    if message.previous != last { try await notRecovered(since: last, earliest: message.id, send: send) }
                    try await send(.event(message))
                    last = message.id
                    metrics.eventsSent.increment()
                }
                metrics.replayed.increment(by: Int64(page.count))
                if page.count < pageSize { break }
            }
            guard let pending = connection.goLive() else { continue }
            var gap = false
            for message in pending where message.id > last {
                if message.previous != last {
                    gap = true
                    break
                }
                try await send(.event(message))
                last = message.id
                record(message)
            }
            if !gap { return }
            connection.startRecovering()
        }
    }

    private func notRecovered(since: RedisStreamID, earliest: RedisStreamID?, send: (Outgoing) async throws -> Void) async throws {
        metrics.notRecovered.increment()
        try await send(.notRecovered(since: since, earliest: earliest))
    }

    private func record(_ message: LiveMessage) {
        metrics.eventsSent.increment()
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        if now >= message.source.milliseconds {
            metrics.deliveryLatency.record(.milliseconds(Int64(now - message.source.milliseconds)))
        }
    }

    private func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                metrics.redisFailures.increment()
                if attempt >= 5 || Task.isCancelled { throw error }
                try await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }
}
