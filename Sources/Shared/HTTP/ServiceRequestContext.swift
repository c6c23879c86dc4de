import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context of every service: Hummingbird's core storage plus the request id and
/// the body limit set by the middleware.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-Id` of this request, taken from the client or generated: Hummingbird's
    /// request id, which ``RequestIDMiddleware`` sets in the logger's metadata.
    public var requestID: String { id }
    /// Set by the body-limit middleware from `MAX_BODY_BYTES`.
    public var maxUploadSize: Int = 1 << 20
    /// The fingerprint of the API key the client presented, once checked
    /// (``KeyFingerprinter``); the raw key is never kept.
    public var apiKeyID: String?
    /// The peer's address, for `X-Forwarded-For`.
    public let remoteAddress: SocketAddress?
    /// The connection, for a long response that must be able to cut a client which stopped
    /// reading (an event stream).
    public let channel: any Channel
    /// The client's address: the peer's, or behind trusted proxies the nearest untrusted hop
    /// of `X-Forwarded-For` (set by ``ClientAddressMiddleware``).
    public var clientAddress: String?

    /// The one encoder of Codable answers: sorted keys, slashes as they are.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// What Codable request bodies are read with (``Request/decodeJSON(as:context:)``).
    public var requestDecoder: JSONDecoder { JSONDecoder() }
    /// What Codable answers are written with, here and in ``Response/json(_:status:headers:)``.
    public var responseEncoder: JSONEncoder { Self.encoder }

    /// The bucket per-address limits count this client in (an IPv6 client's /64).
    public var clientBucket: String { TrustedProxies.limitKey(clientAddress ?? "unknown") }

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
        self.clientAddress = remoteAddress?.ipAddress
    }
}
