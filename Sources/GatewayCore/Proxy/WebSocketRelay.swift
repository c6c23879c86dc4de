import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Shared

/// WebSocket upgrades through the gateway.
///
/// An upgrade request passes the same checks as any request (``GatewayProxy/admit``); refused,
/// it is not upgraded and the HTTP path answers it with the same problem (401, 429, 503). Let
/// through, the client gets its `101` and the gateway opens its own WebSocket to one instance
/// of the upstream (`ws://` for `http://`), with the client's end-to-end headers and
/// `X-Forwarded-*`. Frames are relayed as they come, fragments included, in both directions;
/// when either side closes, so does the other, and an upstream's close code reaches the
/// client. An upstream that cannot be reached counts against its breaker and closes the
/// client's socket with 1014 (bad gateway).
public struct WebSocketRelay: Sendable {
    public typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    let table: RouteTable
    let proxy: GatewayProxy
    let maxFrameSize: Int

    /// Headers of the client's handshake the gateway's own handshake replaces.
    static let handshakeHeaders: Set<String> = [
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
    ]

    public init(table: RouteTable, proxy: GatewayProxy, maxFrameSize: Int) {
        self.table = table
        self.proxy = proxy
        self.maxFrameSize = maxFrameSize
    }

    /// An HTTP/1.1 server that hands WebSocket upgrades to the relay.
    public var server: HTTPServerBuilder {
        .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: maxFrameSize))) { [self] request, channel, logger in
            await shouldUpgrade(request, channel: channel, logger: logger)
        }
    }

    /// The server's upgrade decision for `request`.
    public func shouldUpgrade(_ request: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<Handler> {
        let target = request.path ?? "/"
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let (route, upstreamPath) = table.match(path) else { return .dontUpgrade }
        let clientAddress = channel.remoteAddress?.ipAddress
        guard let admission = try? await proxy.admit(
            method: request.method, headers: request.headerFields, clientAddress: clientAddress, route: route
        ) else { return .dontUpgrade }

        let requestID = RequestIDMiddleware.id(for: request.headerFields)
        let headers = GatewayProxy.forwardedHeaders(
            request.headerFields, clientAddress: clientAddress, requestID: requestID, dropping: Self.handshakeHeaders
        )
        let query = target.firstIndex(of: "?").map { String(target[$0...]) } ?? ""
        let base = admission.candidates[0]
        let url = (base.hasPrefix("https://") ? "wss://" + base.dropFirst(8) : "ws://" + base.dropFirst(7)) + upstreamPath + query
        var requestLogger = logger
        requestLogger[metadataKey: "request.id"] = .string(requestID)
        requestLogger[metadataKey: "gateway.service"] = .string(route.service)
        let logger = requestLogger
        let maxFrameSize = self.maxFrameSize

        return .upgrade(admission.limitHeaders + [HTTPField(name: .requestID, value: requestID)]) { inbound, outbound, _ in
            let start = ContinuousClock.now
            let connected = NIOLockedValueBox(false)
            do {
                let close = try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: maxFrameSize, additionalHeaders: headers),
                    logger: logger
                ) { upstreamInbound, upstreamOutbound, _ in
                    connected.withLockedValue { $0 = true }
                    admission.breaker.record(admission.permit, outcome: .success, duration: ContinuousClock.now - start)
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { try? await Self.pump(inbound, to: upstreamOutbound) }
                        group.addTask { try? await Self.pump(upstreamInbound, to: outbound) }
                        // Either side done: the other stops too, and each socket closes.
                        await group.next()
                        group.cancelAll()
                    }
                }
                if let close { try? await outbound.close(close.closeCode, reason: close.reason) }
            } catch {
                guard !connected.withLockedValue({ $0 }) else { return }
                admission.breaker.record(admission.permit, outcome: .failure, duration: ContinuousClock.now - start)
                logger.warning("upstream WebSocket unreachable", metadata: ["error": "\(error)"])
                try? await outbound.close(.unknown(1014), reason: "\(route.service) could not be reached")
            }
        }
    }

    private static func pump(_ inbound: WebSocketInboundStream, to outbound: WebSocketOutboundWriter) async throws {
        for try await frame in inbound {
            let opcode: WebSocketOpcode = switch frame.opcode {
            case .text: .text
            case .binary: .binary
            case .continuation: .continuation
            }
            try await outbound.write(.custom(WebSocketFrame(fin: frame.fin, opcode: opcode, data: frame.data)))
        }
    }
}
