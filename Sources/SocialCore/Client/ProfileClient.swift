import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Shared

/// How Post and Feed ask ProfileService about users: over HTTP, through the `profile`
/// circuit breaker, with the Redis cache as the fallback.
///
/// Every profile read that succeeds refreshes the cache. When the breaker is open, or the call
/// fails, the answer comes from the cache at once (source `cache`), so a Profile outage costs
/// the callers neither errors nor waiting. Redis being down only means no cache: the live
/// path still works.
struct ProfileClient: Sendable {
    /// `PROFILE_URL` (default `http://127.0.0.1:8085`), `PROFILE_TIMEOUT_MS` (default 800).
    struct Configuration: Sendable {
        var baseURL: String
        var timeout: Duration

        init(baseURL: String = "http://127.0.0.1:8085", timeout: Duration = .milliseconds(800)) {
            self.baseURL = baseURL
            self.timeout = timeout
        }

        init(environment env: EnvironmentReader) {
            self.init(
                baseURL: env.string("PROFILE_URL", default: "http://127.0.0.1:8085"),
                timeout: env.milliseconds("PROFILE_TIMEOUT_MS", default: .milliseconds(800))
            )
        }
    }

    /// The breaker's settings for Profile: a call slower than half the timeout counts as slow.
    static func breakerConfiguration(timeout: Duration) -> CircuitBreaker.Configuration {
        CircuitBreaker.Configuration(
            windowSize: 20,
            minimumCalls: 5,
            failureRateThreshold: 0.5,
            slowCallRateThreshold: 0.5,
            slowCallDuration: timeout / 2,
            openDuration: .seconds(1),
            maxOpenDuration: .seconds(30),
            halfOpenProbes: 2
        )
    }

    /// A lookup's outcome: the profile (nil when the user does not exist, or is unknown to
    /// the cache) and where it came from.
    struct Lookup: Sendable {
        var profile: Profile?
        var source: ProfileSource
    }

    let configuration: Configuration
    let http: HTTPClient
    let breaker: CircuitBreaker
    let cache: ProfileCache
    let logger: Logger

    /// One user's profile, live when Profile answers, else from the cache.
    func profile(_ userID: Int64) async -> Lookup {
        do {
            let profile = try await breaker.execute(
                isFailure: { !($0 is UserNotFound) },
                { try await fetch(userID) }
            )
            await cache.store(profile)
            return Lookup(profile: profile, source: .live)
        } catch is UserNotFound {
            return Lookup(profile: nil, source: .live)
        } catch {
            if !(error is CircuitOpenError) {
                logger.debug("profile call failed", metadata: ["social.user_id": "\(userID)", "error": "\(error)"])
            }
            return await cached(userID)
        }
    }

    /// Several profiles at once, keyed by user id, each live or cached on its own.
    func profiles(_ userIDs: [Int64]) async -> [Int64: Lookup] {
        await withTaskGroup(of: (Int64, Lookup).self) { group in
            for id in Set(userIDs) {
                group.addTask { (id, await profile(id)) }
            }
            var result: [Int64: Lookup] = [:]
            for await (id, lookup) in group { result[id] = lookup }
            return result
        }
    }

    private func cached(_ userID: Int64) async -> Lookup {
        do {
            return Lookup(profile: try await cache.load(userID), source: .cache)
        } catch {
            // Redis is down too: nothing is known, which reads as a user the cache lacks.
            return Lookup(profile: nil, source: .cache)
        }
    }

    /// Checks that `userID` names a user before a write that refers to it: a user Profile
    /// says does not exist is a 422 on `field`; with Profile unreachable, a user known to the
    /// cache passes and one it cannot verify is a 503 with `Retry-After`.
    func verifyUser(_ userID: Int64, field: String) async throws {
        let lookup = await profile(userID)
        switch (lookup.profile, lookup.source) {
        case (.some, _):
            return
        case (nil, .live):
            throw ProblemDetails.invalidField(field, "no user \(userID)")
        case (nil, .cache):
            throw ProblemDetails.unavailable("profile", retryAfter: breaker.configuration.openDuration)
        }
    }

    /// Profile's breaker as a health check (``HealthCheck/breaker(_:name:)``).
    var healthCheck: HealthCheck { .breaker(breaker, name: "profile") }

    struct UserNotFound: Error {}

    private func fetch(_ userID: Int64) async throws -> Profile {
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/get_user_info?user_id=\(userID)")
        request.method = .GET
        let response = try await http.execute(request, timeout: TimeAmount(configuration.timeout))
        let body = try await response.body.collect(upTo: 1 << 20)
        switch response.status.code {
        case 200:
            return try JSONDecoder().decode(Profile.self, from: Data(buffer: body))
        case 404:
            throw UserNotFound()
        default:
            throw DependencyUnavailableError(dependency: "profile", reason: "answered \(response.status.code)")
        }
    }
}
