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
    /// Upstream paths (and everything under them) the gateway does not forward: a service's
    /// own health, metrics and API description are for the suite, not for the public.
    var internalPaths: [String]

    /// What every service serves for the suite itself (see the README's common routes).
    static let defaultInternalPaths = ["/health", "/metrics", "/openapi.json"]

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
        maxBodyBytes: Int = 1 << 20,
        internalPaths: [String] = Self.defaultInternalPaths
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
        self.internalPaths = internalPaths
    }

    /// The upstream path for `path` when the route takes it: the rest after
    /// ``stripPrefix``, always starting with `/`.
    func upstreamPath(for path: Substring) -> Substring? {
        // Compared as bytes: `hasPrefix` and `dropFirst` on a Substring go by Characters.
        let bytes = path.utf8
        guard bytes.starts(with: prefix.utf8) else { return nil }
        let afterPrefix = bytes.index(bytes.startIndex, offsetBy: prefix.utf8.count)
        guard prefix == "/" || afterPrefix == bytes.endIndex || bytes[afterPrefix] == UInt8(ascii: "/") else { return nil }
        if stripPrefix == "/" { return path }
        let rest = bytes.index(bytes.startIndex, offsetBy: stripPrefix.utf8.count, limitedBy: bytes.endIndex) ?? bytes.endIndex
        return rest == bytes.endIndex ? "/" : path[rest...]
    }

    /// Whether `upstreamPath` is one of ``internalPaths`` or under one, however it is spelt:
    /// percent-escapes decoded, letters in any case, a trailing slash, as the upstream's
    /// router might read it. Erring wide is safe here: such paths are refused, not forwarded.
    func isInternal(_ upstreamPath: Substring) -> Bool {
        guard !internalPaths.isEmpty else { return false }
        var path = Self.decoded(upstreamPath).lowercased()
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return internalPaths.contains { kept in
            let kept = kept.lowercased()
            return path == kept || path.hasPrefix(kept + "/")
        }
    }

    /// `path` with every `%XX` escape decoded (an invalid one is left as it is).
    private static func decoded(_ path: Substring) -> String {
        guard path.utf8.contains(UInt8(ascii: "%")) else { return String(path) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        var iterator = Array(path.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
