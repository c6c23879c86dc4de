import HTTPTypes
import Hummingbird
import Logging

/// Turns every error a handler throws into a problem+json response.
///
/// Known errors keep their meaning (an unreachable dependency or open breaker is 503 with
/// `Retry-After`); anything else is logged with its details and answered as a bare 500, so
/// SQL, stack traces and secrets stay in the logs.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.problem(for: error, context: context).response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, context: Context) -> ProblemDetails {
        problem(for: error, logger: context.logger, requestID: context.requestID, maxUploadSize: context.maxUploadSize)
    }

    /// The answer for `error`, for a server that answers without a router (the gateway's
    /// forwarding path): the same mapping as in a handler.
    public static func problem(for error: any Error, logger: Logger, requestID: String, maxUploadSize: Int) -> ProblemDetails {
        switch error {
        case let problem as ProblemDetails:
            return problem
        case let invalid as JSONFieldError:
            return ProblemDetails(invalid)
        case let malformed as JSONSyntaxError:
            return ProblemDetails(malformed)
        case let unavailable as DependencyUnavailableError:
            logger.warning(
                "dependency unavailable",
                metadata: [
                    "dependency": "\(unavailable.dependency)", "error": "\(unavailable.reason)",
                ]
            )
            return .unavailable(unavailable.dependency, retryAfter: unavailable.retryAfter)
        case let open as CircuitOpenError:
            return .unavailable(open.dependency, retryAfter: open.retryAfter)
        case let http as HTTPError:
            switch http.status {
            case .contentTooLarge:
                return .tooLarge(limit: maxUploadSize)
            case .notFound:
                return .notFound(http.body ?? "no such resource")
            case .methodNotAllowed:
                var problem = ProblemDetails(status: .methodNotAllowed, type: "/problems/method-not-allowed", detail: "method not allowed")
                problem.headers = http.headers
                return problem
            default:
                var problem = ProblemDetails(status: http.status, type: "/problems/http", detail: http.body ?? http.status.reasonPhrase)
                problem.headers = http.headers
                return problem
            }
        case let http as any HTTPResponseError where http.status.code < 500:
            return ProblemDetails(status: http.status, type: "/problems/http", detail: http.status.reasonPhrase)
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError(requestID: requestID)
        }
    }
}
