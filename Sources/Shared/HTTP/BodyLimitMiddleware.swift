import Hummingbird

/// Refuses bodies over the limit: at once from `Content-Length`, and while streaming for
/// chunked bodies (Hummingbird's collect honours `context.maxUploadSize`).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers.first(.contentLength).flatMap(Int.init), length > limit {
            throw ProblemDetails.tooLarge(limit: limit)
        }
        var context = context
        context.maxUploadSize = limit
        return try await next(request, context)
    }
}
