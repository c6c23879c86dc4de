import HTTPTypes
import Hummingbird

/// Requires one of `keys` on write methods, or on every method when `protectReads` is set.
/// With no keys configured, writes are refused: an open admin API must be asked for
/// explicitly, never the default.
///
/// Put it on the route group it protects: what it guards is decided by which routes were
/// registered behind it, never by the request's raw path.
public struct APIKeyMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let keys: APIKeySet
    let verifier: APIKeyVerifier
    let protectReads: Bool

    public init(keys: APIKeySet, verifier: APIKeyVerifier, protectReads: Bool = false) {
        self.keys = keys
        self.verifier = verifier
        self.protectReads = protectReads
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isRead = request.method == .get || request.method == .head || request.method == .options
        var context = context
        context.apiKeyID = try verifier.verify(
            request.headers,
            client: context.clientBucket,
            required: protectReads || !isRead,
            accepted: keys
        )
        return try await next(request, context)
    }
}
