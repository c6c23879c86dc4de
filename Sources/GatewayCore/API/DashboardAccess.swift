import HTTPTypes
import Hummingbird
import Shared

/// Who may see the dashboard, in front of its routes: it names every instance and where it
/// listens, so by default only holders of an admin key. The key comes as `X-Api-Key`,
/// `Authorization: Bearer`, or a browser's Basic credentials with the key as the password;
/// a refusal without a key asks a browser for them (`WWW-Authenticate: Basic`).
struct DashboardAccess: RouterMiddleware {
    enum Mode: Sendable {
        /// Anyone who can reach the gateway (`GATEWAY_DASHBOARD_AUTH=open`).
        case open
        /// Holders of one of these keys (`GATEWAY_DASHBOARD_AUTH=key`, the default).
        case keyed(APIKeySet)
    }

    let mode: Mode
    let verifier: APIKeyVerifier

    func handle(
        _ request: Request,
        context: ServiceRequestContext,
        next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if case .keyed(let keys) = mode {
            do {
                _ = try verifier.verify(request.headers, client: context.clientBucket, required: true, accepted: keys)
            } catch var problem as ProblemDetails where problem.status == .unauthorized {
                problem.headers[.wwwAuthenticate] = #"Basic realm="gateway dashboard", charset="UTF-8""#
                throw problem
            }
        }
        return try await next(request, context)
    }
}
