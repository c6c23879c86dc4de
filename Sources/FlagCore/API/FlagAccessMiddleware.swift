import Crypto
import HTTPTypes
import Hummingbird
import Shared

/// Who may do what: writes need an admin key; reads (definitions, history, the change
/// stream) and evaluations are open or keyed by configuration. Client keys may only
/// evaluate. No key where one is needed: 401; a key that is not good enough: 403.
public struct FlagAccessMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    public struct Policy: Sendable {
        public var adminKeys: Set<String>
        public var clientKeys: Set<String>
        public var readsKeyed: Bool
        public var evaluationsKeyed: Bool

        public init(adminKeys: Set<String>, clientKeys: Set<String> = [], readsKeyed: Bool = false, evaluationsKeyed: Bool = false) {
            self.adminKeys = adminKeys
            self.clientKeys = clientKeys
            self.readsKeyed = readsKeyed
            self.evaluationsKeyed = evaluationsKeyed
        }
    }

    enum Access { case open, read, evaluate, write }

    let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let access = Self.classify(request)
        let presented = APIKeyMiddleware.presentedKey(request)
        let isAdmin = presented.map(policy.adminKeys.contains) ?? false
        let isClient = presented.map(policy.clientKeys.contains) ?? false
        let required: Bool
        let accepted: Bool
        switch access {
        case .open: required = false; accepted = true
        case .read: required = policy.readsKeyed; accepted = isAdmin
        case .evaluate: required = policy.evaluationsKeyed; accepted = isAdmin || isClient
        case .write: required = true; accepted = isAdmin
        }
        var context = context
        if isAdmin || isClient { context.apiKey = presented }
        guard required else { return try await next(request, context) }
        guard presented != nil else { throw ProblemDetails.unauthorized("an API key is required (X-Api-Key)") }
        guard accepted else {
            throw ProblemDetails.forbidden(isClient ? "a client key may only evaluate flags" : "the API key is not valid")
        }
        return try await next(request, context)
    }

    static func classify(_ request: Request) -> Access {
        let path = request.uri.path
        if path.hasPrefix("/ofrep/") || path.hasPrefix("/users/") { return .evaluate }
        guard path.hasPrefix("/flags") || path.hasPrefix("/segments") || path == "/events" else { return .open }
        switch request.method {
        case .get, .head, .options: return .read
        default: return .write
        }
    }

    /// Who made a change, for the audit log: a fingerprint of the key, never the key.
    static func actor(_ context: Context) -> String {
        guard let key = context.apiKey else { return "anonymous" }
        let digest = SHA256.hash(data: Array(key.utf8))
        return "key:" + hex(digest.prefix(6))
    }
}
