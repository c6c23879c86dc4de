import HTTPTypes
import Hummingbird
import Shared

/// Who may do what: writes need an admin key; reads (definitions, history, the change
/// stream) and evaluations are open or keyed by configuration. Client keys may only
/// evaluate. No key where one is needed: 401; a key that is not good enough: 403.
///
/// Each instance guards one ``Access`` level and sits on the route group registered for
/// it, so the level comes from the route that matched, never from the request's spelling
/// of the path (`//flags`, `/flags/` and `/flags` reach the same route and the same check).
struct FlagAccessMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext

    struct Policy: Sendable {
        var adminKeys: APIKeySet
        var clientKeys: APIKeySet
        var readsKeyed: Bool
        var evaluationsKeyed: Bool

        init(adminKeys: APIKeySet, clientKeys: APIKeySet = APIKeySet([]), readsKeyed: Bool = false, evaluationsKeyed: Bool = false) {
            self.adminKeys = adminKeys
            self.clientKeys = clientKeys
            self.readsKeyed = readsKeyed
            self.evaluationsKeyed = evaluationsKeyed
        }
    }

    enum Access: Sendable { case read, evaluate, write }

    let access: Access
    let policy: Policy
    let verifier: APIKeyVerifier
    /// Admin and client keys, the keys that may evaluate: joined once, not per request.
    let evaluators: APIKeySet

    init(_ access: Access, policy: Policy, verifier: APIKeyVerifier) {
        self.access = access
        self.policy = policy
        self.verifier = verifier
        self.evaluators = policy.adminKeys.union(policy.clientKeys)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let headers = request.headers
        let client = context.clientBucket
        switch access {
        case .read:
            context.apiKeyID = try verifier.verify(
                headers,
                client: client,
                required: policy.readsKeyed,
                accepted: policy.adminKeys,
                known: policy.clientKeys,
                insufficient: "a client key may only evaluate flags"
            )
        case .evaluate:
            context.apiKeyID = try verifier.verify(
                headers,
                client: client,
                required: policy.evaluationsKeyed,
                accepted: evaluators
            )
        case .write:
            context.apiKeyID = try verifier.verify(
                headers,
                client: client,
                required: true,
                accepted: policy.adminKeys,
                known: policy.clientKeys,
                insufficient: "a client key may only evaluate flags"
            )
        }
        return try await next(request, context)
    }

    /// Who made a change, for the audit log: the key's fingerprint, never the key.
    static func actor(_ context: Context) -> String {
        context.apiKeyID.map { "key:" + $0 } ?? "anonymous"
    }
}
