import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Shared

/// The gateway's server connection: NIOHTTP1's codec, the ``ForwardingHandler`` that takes
/// routed requests straight to an upstream, and behind it Hummingbird's own HTTP/1 handlers
/// for everything else (dashboard, health, metrics, OpenAPI, 404s and 400s).
///
/// The ``RequestObserver`` sits before the forwarding handler, so the connection's guard sees
/// proxied requests as well as the router's.
struct GatewayChildChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let http1: HTTP1Channel.Configuration
    let path: ForwardingPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            // The decoder and encoder are paired here, so answers to HEAD are framed right.
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try pipeline.addHandler(RequestObserver<HTTPServerRequestPart, HTTPServerResponsePart>())
            try pipeline.addHandler(ForwardingHandler(path: path))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
