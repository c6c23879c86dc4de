import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection: passes what the upstream sends to the
/// exchange that holds the connection, and closes a parked connection that speaks unasked.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// The client connection's handler whose exchange holds this connection; nil while parked.
    weak var owner: ForwardingHandler?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let owner else {
            // Nothing was asked: an upstream that answers anyway is not to be trusted again.
            context.close(promise: nil)
            return
        }
        owner.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        owner?.upstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        owner?.upstreamClosed()
        owner = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed response or a reset: the exchange learns of it from the close.
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamHandler: Sendable {}
