import Foundation
import Shared

/// What a route takes when it does not say.
struct RouteDefaults {
    var timeout: Duration
    var retries: Int
    var keysOnWrites: Bool
    var keysOnReads = false
    var keys = APIKeySet([])
    var rateLimit: RateLimitPolicy?
    var maxBodyBytes: Int
    var internalPaths = GatewayRoute.defaultInternalPaths
    /// The key set of a name, nil for a name nothing defines.
    var keySets: @Sendable (String) -> APIKeySet? = { _ in nil }

    func route(prefix: String, service: String, urls: [String]) -> GatewayRoute {
        GatewayRoute(
            prefix: prefix,
            service: service,
            urls: urls,
            timeout: timeout,
            retries: retries,
            keysOnWrites: keysOnWrites,
            keysOnReads: keysOnReads,
            keys: keys,
            rateLimit: rateLimit,
            maxBodyBytes: maxBodyBytes,
            internalPaths: internalPaths
        )
    }

    mutating func apply(_ object: JSONValue, at path: String) throws {
        if let ms = object["timeout_ms"]?.double {
            guard ms > 0, ms <= 3_600_000 else { throw RouteTableError("\(path).timeout_ms: 1 to 3600000") }
            timeout = .milliseconds(Int64(ms))
        }
        if let count = object["retries"]?.double {
            guard count >= 0, count <= 5 else { throw RouteTableError("\(path).retries: 0 to 5") }
            retries = Int(count)
        }
        if case .bool(let flag)? = object["keys_on_writes"] { keysOnWrites = flag }
        if case .bool(let flag)? = object["keys_on_reads"] { keysOnReads = flag }
        if case .array(let names)? = object["key_sets"] {
            var joined = APIKeySet([])
            for name in names {
                guard case .string(let name) = name, let set = keySets(name) else {
                    throw RouteTableError("\(path).key_sets: every name must be admin or have GATEWAY_KEYS_<NAME> set")
                }
                joined = joined.union(set)
            }
            keys = joined
        }
        if let bytes = object["max_body_bytes"]?.double {
            guard bytes > 0, bytes <= 1_073_741_824 else { throw RouteTableError("\(path).max_body_bytes: 1 to 1073741824") }
            maxBodyBytes = Int(bytes)
        }
        if case .array(let paths)? = object["internal_paths"] {
            internalPaths = []
            for entry in paths {
                guard case .string(let text) = entry, text.hasPrefix("/"), text.count > 1 else {
                    throw RouteTableError("\(path).internal_paths: every entry a path starting with / (not / itself)")
                }
                internalPaths.append(text.hasSuffix("/") ? String(text.dropLast()) : text)
            }
        }
        switch object["rate_limit"] {
        case .null?: rateLimit = nil
        case .object(let limit)?:
            guard let count = limit["limit"]?.double, let seconds = limit["period_s"]?.double,
                let policy = try? RateLimitPolicy(name: "gateway", checkedLimit: count, periodSeconds: seconds)
            else {
                throw RouteTableError("\(path).rate_limit: {\"limit\": 1 to 10^9, \"period_s\": above 0, at most a year}")
            }
            rateLimit = policy
        default: break
        }
    }
}
