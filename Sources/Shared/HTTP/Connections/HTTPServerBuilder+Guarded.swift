import HummingbirdCore
import NIOCore
import NIOHTTPTypes

extension HTTPServerBuilder {
    /// A server whose every connection is held to `counter`'s ``ConnectionLimits``. `make`
    /// builds the child channel from the responder and an HTTP/1 configuration that carries
    /// the guard's ``RequestObserver`` (and leaves idle timing to the guard).
    public static func guarded<Child: ServerChildChannel>(
        _ counter: ConnectionCounter,
        _ make: @escaping @Sendable (@escaping HTTPChannelHandler.Responder, HTTP1Channel.Configuration) -> Child
    ) -> HTTPServerBuilder {
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestObserver<HTTPRequestPart, HTTPResponsePart>()], idleTimeout: nil)
        return HTTPServerBuilder { responder in
            GuardedChildChannel(base: make(responder, http1), counter: counter)
        }
    }
}
