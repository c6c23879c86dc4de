import Shared

/// One entry of the route table: requests under `prefix` go to `service`, prefix stripped.
struct GatewayRoute: Sendable, Equatable {
    /// A path prefix on segment boundaries: `/social/profile` takes `/social/profile` and
    /// `/social/profile/…`, not `/social/profiles`.
    var prefix: String
    /// The service's name in the health channels (`flags`, `profile`, …): its breaker, and
    /// the instances the registry knows to be up.
    var service: String
    /// Used when the registry knows no instance (Redis down, or services that do not say
    /// where they listen).
    var urls: [String]
    /// Until the upstream's response head arrives.
    var timeout: Duration
    /// Extra attempts for idempotent requests without a body, within the retry budget.
    var retries: Int
    /// Write methods need one of ``keys``.
    var keysOnWrites: Bool
    /// Every method, WebSocket upgrades included, needs one of ``keys``.
    var keysOnReads: Bool
    /// The keys this route accepts (its key sets joined); a key of another route's set is
    /// refused here, so an OFREP client key cannot write flags.
    var keys: APIKeySet
    /// What is cut off the path before it goes upstream: the prefix itself unless set, so
    /// `/flags/ofrep` can be a route of its own that still sends `/ofrep/…` to FlagService.
    var stripPrefix: String
    /// Per API key, else per client address; nil: not limited.
    var rateLimit: RateLimitPolicy?
    var maxBodyBytes: Int

    init(
        prefix: String,
        service: String,
        urls: [String],
        timeout: Duration = .seconds(10),
        retries: Int = 1,
        keysOnWrites: Bool = true,
        keysOnReads: Bool = false,
        keys: APIKeySet = APIKeySet([]),
        stripPrefix: String? = nil,
        rateLimit: RateLimitPolicy? = nil,
        maxBodyBytes: Int = 1 << 20
    ) {
        self.prefix = prefix
        self.service = service
        self.urls = urls
        self.timeout = timeout
        self.retries = retries
        self.keysOnWrites = keysOnWrites
        self.keysOnReads = keysOnReads
        self.keys = keys
        self.stripPrefix = stripPrefix ?? prefix
        self.rateLimit = rateLimit
        self.maxBodyBytes = maxBodyBytes
    }

    /// The upstream path for `path` when the route takes it: the rest after
    /// ``stripPrefix``, always starting with `/`.
    func upstreamPath(for path: Substring) -> Substring? {
        guard path.hasPrefix(prefix) else { return nil }
        let after = path.dropFirst(prefix.count)
        guard prefix == "/" || after.isEmpty || after.first == "/" else { return nil }
        if stripPrefix == "/" { return path }
        let rest = path.dropFirst(stripPrefix.count)
        return rest.isEmpty ? "/" : rest
    }
}
