import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Tells the connection's ``ConnectionGuard`` where requests begin and responses end: it sits
/// after an HTTP codec, where heads and ends are parts, and passes everything on untouched.
///
/// Hummingbird's HTTP/1 channel places it after its HTTPTypes codec; a server that claims
/// some requests itself before that codec (the gateway's forwarding path) places it right
/// after NIOHTTP1's codec instead, so that it sees every request either way.
public final class RequestObserver<Request, Response>: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = Request
    public typealias InboundOut = Request
    public typealias OutboundIn = Response
    public typealias OutboundOut = Response

    private let isHead: (Request) -> Bool
    private let isEnd: (Response) -> Bool
    private var connectionGuard: ConnectionGuard?

    init(isHead: @escaping (Request) -> Bool, isEnd: @escaping (Response) -> Bool) {
        self.isHead = isHead
        self.isEnd = isEnd
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        connectionGuard = try? context.pipeline.syncOperations.handler(type: ConnectionGuard.self)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if isHead(unwrapInboundIn(data)) { connectionGuard?.requestStarted() }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended = isEnd(unwrapOutboundIn(data))
        context.write(data, promise: promise)
        if ended { connectionGuard?.responseEnded() }
    }
}

extension RequestObserver where Request == HTTPRequestPart, Response == HTTPResponsePart {
    /// After Hummingbird's HTTPTypes codec.
    public convenience init() {
        self.init(
            isHead: { if case .head = $0 { true } else { false } },
            isEnd: { if case .end = $0 { true } else { false } }
        )
    }
}

extension RequestObserver where Request == HTTPServerRequestPart, Response == HTTPServerResponsePart {
    /// Right after NIOHTTP1's server codec.
    public convenience init() {
        self.init(
            isHead: { if case .head = $0 { true } else { false } },
            isEnd: { if case .end = $0 { true } else { false } }
        )
    }
}

@available(*, unavailable)
extension RequestObserver: Sendable {}
