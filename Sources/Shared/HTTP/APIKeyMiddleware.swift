import HTTPTypes
import Hummingbird

/// Requires one of `ADMIN_API_KEYS` in `X-Api-Key` (or `Authorization: Bearer …`) on write
/// methods, or on every method when `protectReads` is set. With no keys configured, writes
/// are refused: an open admin API must be asked for explicitly, never the default.
public struct APIKeyMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let keys: Set<String>
    let protectReads: Bool

    public init(keys: Set<String>, protectReads: Bool = false) {
        self.keys = keys
        self.protectReads = protectReads
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isRead = request.method == .get || request.method == .head || request.method == .options
        if isRead && !protectReads { return try await next(request, context) }
        guard let presented = Self.presentedKey(request) else {
            throw ProblemDetails.unauthorized("an API key is required (X-Api-Key)")
        }
        guard keys.contains(presented) else {
            throw ProblemDetails.forbidden("the API key is not valid")
        }
        var context = context
        context.apiKey = presented
        return try await next(request, context)
    }

    /// The key in `X-Api-Key` or `Authorization: Bearer …`, if any.
    public static func presentedKey(_ request: Request) -> String? {
        presentedKey(in: request.headers)
    }

    /// The key in `X-Api-Key` or `Authorization: Bearer …` of `headers`, if any.
    public static func presentedKey(in headers: HTTPFields) -> String? {
        if let key = headers[.apiKey], !key.isEmpty { return key }
        if let authorization = headers[.authorization], authorization.hasPrefix("Bearer ") {
            return String(authorization.dropFirst(7))
        }
        return nil
    }
}
