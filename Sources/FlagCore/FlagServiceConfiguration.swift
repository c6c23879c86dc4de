import Shared

/// FlagService's own settings, read from the environment.
///
/// | variable | default | |
/// |---|---|---|
/// | `ADMIN_API_KEYS` | none | keys for writes (and for reads when keyed) |
/// | `CLIENT_API_KEYS` | none | keys that may only evaluate (SDKs, OFREP providers) |
/// | `FLAGS_READ_ACCESS` | `open` | `keyed`: reading definitions, history and the SSE stream needs an admin key |
/// | `FLAGS_EVALUATION_ACCESS` | `open` | `keyed`: evaluations need an admin or client key |
/// | `FLAGS_OFREP_RATE_LIMIT` | 1000 | OFREP requests per client (key, else address) per period; 0 turns it off |
/// | `FLAGS_OFREP_RATE_PERIOD_MS` | 1000 | |
/// | `FLAGS_RESYNC_MS` | 10000 | full reload from PostgreSQL, the bound on missed pub/sub messages |
/// | `FLAGS_SSE_KEEPALIVE_MS` | 15000 | comment lines on idle SSE streams |
///
/// and the platform's settings (``ServiceConfiguration``), with `FLAG_PORT` 8081.
public struct FlagServiceConfiguration: ServiceSettings {
    public var service: ServiceConfiguration
    var access: FlagAccessMiddleware.Policy
    /// Nil: OFREP is not rate limited.
    var ofrepRateLimit: RateLimitPolicy?
    var sync: FlagSyncService.Configuration

    public init(environment env: EnvironmentReader = EnvironmentReader()) throws {
        let service = try ServiceConfiguration.load(service: "flags", portVariable: "FLAG_PORT", defaultPort: 8081, environment: env)
        self.service = service
        access = .init(
            adminKeys: service.adminAPIKeys,
            clientKeys: APIKeySet(env.list("CLIENT_API_KEYS")),
            readsKeyed: env.string("FLAGS_READ_ACCESS", default: "open").lowercased() == "keyed",
            evaluationsKeyed: env.string("FLAGS_EVALUATION_ACCESS", default: "open").lowercased() == "keyed"
        )
        let limit = env.int("FLAGS_OFREP_RATE_LIMIT", default: 1000)
        let period = env.milliseconds("FLAGS_OFREP_RATE_PERIOD_MS", default: .seconds(1))
        ofrepRateLimit = limit > 0 && period > .zero ? RateLimitPolicy(name: "ofrep", limit: limit, period: period) : nil
        sync = .init(environment: env)
    }
}
