import HTTPTypes
import Hummingbird
import Shared

/// Who may do what: filter writes always need an admin key; with `STREAM_ACCESS=keyed`,
/// everything else but the platform's routes (filter reads, producing, delivery) needs an
/// admin or a client key (`CLIENT_API_KEYS`). No key where one is needed: 401; a key that
/// is not good enough: 403.
struct StreamAccess: Sendable {
    var adminKeys: APIKeySet
    var clientKeys: APIKeySet
    var keyed: Bool

    /// Checks `headers` for a route of the given level; returns the key's fingerprint.
    func check(_ headers: HTTPFields, write: Bool, client: String, verifier: APIKeyVerifier) throws -> String? {
        if write {
            return try verifier.verify(
                headers,
                client: client,
                required: true,
                accepted: adminKeys,
                known: clientKeys,
                insufficient: "a client key may not change filters"
            )
        }
        return try verifier.verify(headers, client: client, required: keyed, accepted: adminKeys.union(clientKeys))
    }

    /// The middleware of one access level, on the group of routes it guards.
    struct Middleware: RouterMiddleware {
        typealias Context = ServiceRequestContext
        let access: StreamAccess
        let write: Bool
        let verifier: APIKeyVerifier

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var context = context
            context.apiKeyID = try access.check(request.headers, write: write, client: context.clientBucket, verifier: verifier)
            return try await next(request, context)
        }
    }
}
