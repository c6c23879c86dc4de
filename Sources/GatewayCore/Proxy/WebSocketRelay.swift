import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Shared

/// WebSocket upgrades through the gateway.
///
/// An upgrade request passes the same checks as any request (``GatewayProxy/admit``). Let
/// through, the gateway first opens its own WebSocket to one instance of the upstream
/// (`ws://` for `http://`), with the client's end-to-end headers and `X-Forwarded-*`, and only
/// then answers the client's `101`. Frames are relayed as they come, fragments included, in
/// both directions; when either side closes, so does the other, and an upstream's close code
/// reaches the client. An upstream that cannot be reached within the route's timeout counts
/// against its breaker. A declined handshake (refused by the checks, or no upstream) gets
/// hummingbird-websocket's own answer, `400` with `Connection: close`: the library writes it
/// for every declined upgrade, so the reason is logged here rather than sent.
struct WebSocketRelay: Sendable {
    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    let table: RouteTable
    let proxy: GatewayProxy
    let maxFrameSize: Int
    /// Relays open at once, in all and per client (`GATEWAY_WEBSOCKETS`, 1024;
    /// `GATEWAY_WEBSOCKETS_PER_CLIENT`, 16).
    let relays: ConcurrencyLimit

    /// Headers of the client's handshake the gateway's own handshake replaces.
    static let handshakeHeaders: Set<String> = [
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
    ]

    init(table: RouteTable, proxy: GatewayProxy, maxFrameSize: Int, relays: ConcurrencyLimit) {
        self.table = table
        self.proxy = proxy
        self.maxFrameSize = maxFrameSize
        self.relays = relays
    }

    /// An HTTP/1.1 server's connection that hands WebSocket upgrades to the relay.
    func childChannel(responder: @escaping HTTPChannelHandler.Responder, http1: HTTP1Channel.Configuration) -> HTTP1WebSocketUpgradeChannel {
        HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init(http1: http1, ws: .init(maxFrameSize: maxFrameSize))) {
            [self] request, channel, logger in
            await shouldUpgrade(request, channel: channel, logger: logger)
        }
    }

    /// The server's upgrade decision for `request`.
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<Handler> {
        let target = request.path ?? "/"
        let queryStart = target.firstIndex(of: "?") ?? target.endIndex
        guard let (route, upstreamPath) = table.match(target[..<queryStart]) else { return .dontUpgrade }
        let peer = channel.remoteAddress?.ipAddress
        let client = TrustedProxies.limitKey(
            proxy.trustedProxies.client(peer: peer, forwardedFor: request.headerFields[values: .forwardedFor]) ?? "unknown"
        )
        let admission: GatewayProxy.Admission
        do {
            admission = try await proxy.admit(method: request.method, headers: request.headerFields, client: client, route: route, slots: relays)
        } catch {
            logger.info("WebSocket upgrade refused", metadata: ["gateway.service": .string(route.service), "error": "\(error)"])
            return .dontUpgrade
        }

        let requestID = RequestIDMiddleware.id(for: request.headerFields)
        let headers = GatewayProxy.forwardedHeaders(
            request.headerFields,
            peer: peer,
            trusted: proxy.trustedProxies,
            requestID: requestID,
            dropping: Self.handshakeHeaders
        )
        let slot = admission.slot
        let base = admission.candidates[0]
        let url = (base.hasPrefix("https://") ? "wss://" + base.dropFirst(8) : "ws://" + base.dropFirst(7)) + upstreamPath + target[queryStart...]
        var requestLogger = logger
        requestLogger[metadataKey: RequestIDMiddleware.metadataKey] = .string(requestID)
        requestLogger[metadataKey: "gateway.service"] = .string(route.service)
        let logger = requestLogger
        let maxFrameSize = self.maxFrameSize

        // The upstream is connected before the client gets its 101, so an upstream that
        // cannot be reached is a declined handshake and the relay never holds half a pair.
        // The connection lives in its own task, whose handler waits for the client's ends.
        let (upstreamReady, upstreamSignal) = AsyncStream<Void>.makeStream()
        let (clientEnds, clientArrived) = AsyncStream<Ends>.makeStream()
        let start = ContinuousClock.now
        let connection = Task { () throws -> WebSocketCloseFrame? in
            defer { upstreamSignal.finish() }
            return try await WebSocketClient.connect(
                url: url,
                configuration: .init(maxFrameSize: maxFrameSize, additionalHeaders: headers),
                logger: logger
            ) { upstreamInbound, upstreamOutbound, _ in
                upstreamSignal.yield()
                upstreamSignal.finish()
                for await client in clientEnds {
                    await Self.relay(client, Ends(inbound: upstreamInbound, outbound: upstreamOutbound))
                    break
                }
            }
        }
        let timeout = route.timeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            upstreamSignal.finish()
        }
        var connected = false
        for await _ in upstreamReady {
            connected = true
            break
        }
        timer.cancel()
        guard connected else {
            slot.release()
            clientArrived.finish()
            admission.breaker.record(admission.permit, outcome: .failure, duration: ContinuousClock.now - start)
            var error: any Error = UpstreamTimedOut(after: timeout)
            if (try? await timer.value) == nil, case .failure(let failure) = await connection.result { error = failure }
            logger.warning("upstream WebSocket unreachable", metadata: ["error": "\(error)"])
            return .dontUpgrade
        }
        admission.breaker.record(admission.permit, outcome: .success, duration: ContinuousClock.now - start)
        // Should the client's connection go before its handler runs, the upstream is let go.
        let clientTimer = Task {
            try await Task.sleep(for: timeout)
            clientArrived.finish()
        }
        return .upgrade(admission.limitHeaders + [HTTPField(name: .requestID, value: requestID)]) { inbound, outbound, _ in
            defer { slot.release() }
            clientTimer.cancel()
            clientArrived.yield(Ends(inbound: inbound, outbound: outbound))
            clientArrived.finish()
            // The upstream's close code, once the relay is over, is the client's.
            if case .success(let close?) = await connection.result {
                try? await outbound.close(close.closeCode, reason: close.reason)
            }
        }
    }

    /// One side of a relayed WebSocket.
    struct Ends: Sendable {
        let inbound: WebSocketInboundStream
        let outbound: WebSocketOutboundWriter
    }

    struct UpstreamTimedOut: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "no WebSocket connection within \(after)" }
    }

    /// Frames both ways until either side is done; then the other stops too.
    private static func relay(_ client: Ends, _ upstream: Ends) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await pump(client.inbound, to: upstream.outbound) }
            group.addTask { try? await pump(upstream.inbound, to: client.outbound) }
            await group.next()
            group.cancelAll()
        }
    }

    private static func pump(_ inbound: WebSocketInboundStream, to outbound: WebSocketOutboundWriter) async throws {
        for try await frame in inbound {
            let opcode: WebSocketOpcode =
                switch frame.opcode {
                case .text: .text
                case .binary: .binary
                case .continuation: .continuation
                }
            try await outbound.write(.custom(WebSocketFrame(fin: frame.fin, opcode: opcode, data: frame.data)))
        }
    }
}
