import Hummingbird
import Logging
import NIOCore

/// The request context of every service: Hummingbird's core storage plus the request id and
/// the body limit set by the middleware.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-Id` of this request, taken from the client or generated.
    public var requestID: String = ""
    /// Set by the body-limit middleware from `MAX_BODY_BYTES`.
    public var maxUploadSize: Int = 1 << 20
    /// The API key the client presented, once checked.
    public var apiKey: String?
    /// The peer's address, for per-client rate limits and `X-Forwarded-For`.
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
