import Hummingbird

/// Sets ``ServiceRequestContext/clientAddress``: behind trusted proxies, the nearest hop of
/// `X-Forwarded-For` that is not one of them; otherwise the peer, whatever it claims.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let trusted: TrustedProxies

    public init(trusted: TrustedProxies) {
        self.trusted = trusted
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = trusted.client(peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .forwardedFor])
        return try await next(request, context)
    }
}
