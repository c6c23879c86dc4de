import Shared

/// One entry of the route table: requests under `prefix` go to `service`, prefix stripped.
public struct GatewayRoute: Sendable, Equatable {
    /// A path prefix on segment boundaries: `/social/profile` takes `/social/profile` and
    /// `/social/profile/…`, not `/social/profiles`.
    public var prefix: String
    /// The service's name in the health channels (`flags`, `profile`, …): its breaker, and
    /// the instances the registry knows to be up.
    public var service: String
    /// Used when the registry knows no instance (Redis down, or services that do not say
    /// where they listen).
    public var urls: [String]
    /// Until the upstream's response head arrives.
    public var timeout: Duration
    /// Extra attempts for idempotent requests without a body, within the retry budget.
    public var retries: Int
    /// Write methods need one of the gateway's API keys.
    public var keysOnWrites: Bool
    /// Per API key, else per client address; nil: not limited.
    public var rateLimit: RateLimitPolicy?
    public var maxBodyBytes: Int

    public init(
        prefix: String, service: String, urls: [String], timeout: Duration = .seconds(10), retries: Int = 1,
        keysOnWrites: Bool = true, rateLimit: RateLimitPolicy? = nil, maxBodyBytes: Int = 1 << 20
    ) {
        self.prefix = prefix
        self.service = service
        self.urls = urls
        self.timeout = timeout
        self.retries = retries
        self.keysOnWrites = keysOnWrites
        self.rateLimit = rateLimit
        self.maxBodyBytes = maxBodyBytes
    }

    /// The upstream path for `path` when the route takes it: the rest after the prefix,
    /// always starting with `/`.
    func upstreamPath(for path: Substring) -> Substring? {
        guard path.hasPrefix(prefix) else { return nil }
        if prefix == "/" { return path }
        let rest = path.dropFirst(prefix.count)
        if rest.isEmpty { return "/" }
        return rest.first == "/" ? rest : nil
    }
}
