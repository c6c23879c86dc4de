import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Shared

/// `GET /ws/{subscriber_id}` (WebSocket) and `GET /sse/{subscriber_id}` (Server-Sent
/// Events): the subscriber's matching events, live, or from a position (`?since=<id>`; SSE
/// also `Last-Event-ID`).
///
/// A WebSocket message is a JSON text frame: `{"type":"event","id","event"}`, or
/// `{"type":"not_recovered","since","earliest"}` before the rest when events after `since`
/// were lost to retention. An upgrade is always accepted and a refusal is a close with a
/// code (``DeliveryConnection/CloseReason``), since browsers never see a refused
/// handshake's status. SSE sends `id:`/`event: event`/`data:` per event,
/// `event: not_recovered`, and a final `event: close` with the code and reason when the
/// server ends the stream; its refusals are plain HTTP problems.
struct DeliveryAPI: Sendable {
    struct Configuration: Sendable {
        /// `STREAM_QUEUE_LIMIT` (1,000): live messages a connection may have waiting.
        var queueLimit = 1_000
        /// `STREAM_SLOW_CLOSE_GRACE_MS` (2 s): how long a slow client's close frame may wait
        /// before the connection is cut.
        var slowCloseGrace: Duration = .seconds(2)
    }

    let store: FilterStore
    let hub: SubscriberHub
    let stream: SubscriberStream
    let access: StreamAccess
    let verifier: APIKeyVerifier
    let metrics: StreamMetrics
    let configuration: Configuration

    // MARK: Server-Sent Events

    func registerEventStream(on router: some RouterMethods<ServiceRequestContext>) {
        router.get("/sse/:subscriber_id") { request, context in
            let subscriber = try FilterAPI.subscriber(context)
            let since = try Self.position(request.uri.queryParameters.get("since") ?? request.headers[.lastEventID]) {
                ProblemDetails.invalidField("since", $0)
            }
            guard store.record(subscriber) != nil else { throw ProblemDetails.notFound("no filter for subscriber \(subscriber)") }
            let channel = context.channel
            let metrics = self.metrics
            let connection = DeliveryConnection(subscriberID: subscriber, transport: .eventStream, queueLimit: configuration.queueLimit) {
                metrics.disconnect(.tooSlow)
                channel.close(promise: nil)
            }
            let session = DeliverySession(connection: connection, hub: hub, stream: stream, metrics: metrics)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    let reason: DeliveryConnection.CloseReason
                    do {
                        reason = try await session.run(since: since) { outgoing in
                            try await writer.write(ByteBuffer(string: Self.eventStreamText(outgoing)))
                        }
                    } catch {
                        let reason = connection.closeReason ?? .clientClosed
                        if reason != .tooSlow { metrics.disconnect(reason) }
                        throw error
                    }
                    if reason != .tooSlow { metrics.disconnect(reason) }
                    let close: JSONValue = ["code": .number(Double(reason.code)), "reason": .string(reason.text)]
                    try await writer.write(ByteBuffer(string: "event: close\ndata: \(Self.text(close))\n\n"))
                    try await writer.finish(nil)
                }
            )
        }
    }

    static func eventStreamText(_ outgoing: DeliverySession.Outgoing) -> String {
        switch outgoing {
        case .event(let message): "id: \(message.id)\nevent: event\ndata: \(message.event)\n\n"
        case .notRecovered(let since, let earliest):
            "event: not_recovered\ndata: \(text(["since": .string(since.description), "earliest": earliest.map { .string($0.description) } ?? .null]))\n\n"
        case .keepAlive: ": keep-alive\n\n"
        }
    }

    // MARK: WebSocket

    func registerWebSocket(on router: Router<StreamWebSocketContext>) {
        router.ws("/ws/:subscriber_id") { inbound, outbound, context in
            let channel = context.requestContext.channel
            let subscriber = context.requestContext.parameters.get("subscriber_id") ?? ""
            let (since, refusal) = admit(subscriber, context.request, peer: channel.remoteAddress?.ipAddress)
            if let refusal {
                metrics.disconnect(refusal)
                try await outbound.close(WebSocketErrorCode(codeNumber: Int(refusal.code)), reason: Self.closeText(refusal))
                return
            }
            let grace = configuration.slowCloseGrace
            let connection = DeliveryConnection(subscriberID: subscriber, transport: .webSocket, queueLimit: configuration.queueLimit) {
                // Counted when decided: the session ends only once the stuck write gives up.
                metrics.disconnect(.tooSlow)
                Self.cut(channel, .tooSlow, grace: grace)
            }
            let session = DeliverySession(connection: connection, hub: hub, stream: stream, metrics: metrics)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Reading keeps pings, pongs and the client's close flowing; what a client
                    // sends is not used.
                    do { for try await _ in inbound {} } catch {}
                    connection.close(.clientClosed)
                }
                group.addTask {
                    let reason: DeliveryConnection.CloseReason
                    do {
                        reason = try await session.run(since: since) { outgoing in
                            try await outbound.write(.text(Self.webSocketText(outgoing)))
                        }
                    } catch {
                        reason = connection.closeReason ?? .unavailable
                    }
                    if reason != .tooSlow { metrics.disconnect(reason) }
                    if reason != .clientClosed {
                        try? await outbound.close(WebSocketErrorCode(codeNumber: Int(reason.code)), reason: Self.closeText(reason))
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// The upgrade's `since`, or why it is refused.
    private func admit(_ subscriber: String, _ request: Request, peer: String?) -> (RedisStreamID?, DeliveryConnection.CloseReason?) {
        do {
            try FieldReader.checkName(subscriber) { JSONFieldError(field: "subscriber_id", $0) }
            _ = try access.check(request.headers, write: false, client: TrustedProxies.limitKey(peer ?? "unknown"), verifier: verifier)
            let since = try Self.position(request.uri.queryParameters.get("since")) { JSONFieldError(field: "since", $0) }
            return (since, store.record(subscriber) == nil ? .unknownSubscriber : nil)
        } catch let problem as ProblemDetails {
            switch problem.status {
            case .unauthorized: return (nil, .unauthorized(problem.detail))
            case .forbidden: return (nil, .forbidden(problem.detail))
            default: return (nil, .badRequest(problem.detail))
            }
        } catch {
            return (nil, .badRequest("\(error)"))
        }
    }

    static func webSocketText(_ outgoing: DeliverySession.Outgoing) -> String {
        switch outgoing {
        case .event(let message): "{\"type\":\"event\",\"id\":\"\(message.id)\",\"event\":\(message.event)}"
        case .notRecovered(let since, let earliest):
            text(["type": "not_recovered", "since": .string(since.description), "earliest": earliest.map { .string($0.description) } ?? .null])
        case .keepAlive: "{\"type\":\"keepalive\"}"
        }
    }

    /// A close frame's reason holds at most 123 bytes.
    static func closeText(_ reason: DeliveryConnection.CloseReason) -> String {
        var text = reason.text
        while text.utf8.count > 123 { text.removeLast() }
        return text
    }

    /// Writes a close frame past the connection's back-pressure (its writer may be stuck
    /// behind a client that does not read), then cuts the connection after `grace`.
    static func cut(_ channel: any Channel, _ reason: DeliveryConnection.CloseReason, grace: Duration) {
        var data = channel.allocator.buffer(capacity: 128)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: Int(reason.code)))
        data.writeString(closeText(reason))
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data), promise: nil)
        channel.eventLoop.scheduleTask(in: .milliseconds(grace.millisecondsRoundedUp)) { channel.close(promise: nil) }
    }

    /// A `since` position: `<ms>-<seq>` or `<ms>`; nil when absent.
    static func position<E: Error>(_ text: String?, error: (String) -> E) throws -> RedisStreamID? {
        guard let text else { return nil }
        guard let position = RedisStreamID(parsing: text) else {
            throw error("must be a position as received (<ms>-<seq>), or 0 for all that is kept")
        }
        return position
    }

    static func text(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(buffer: writer.buffer)
    }
}
