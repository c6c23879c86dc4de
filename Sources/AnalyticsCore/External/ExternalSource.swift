import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Shared

/// The external source a summary quotes in `external_data`: an HTTP service that may fail
/// or hang, called with a timeout through the `external` circuit breaker.
///
/// A good answer is `{"status": "success", "data": …}` and is remembered; anything else is
/// `{"status": "fallback", "reason", "last_good", "age_seconds"}` with the last good data
/// (null before the first). An open breaker answers the fallback at once.
final class ExternalSource: Sendable {
    /// `ANALYTICS_EXTERNAL_URL` (`http://127.0.0.1:8090/data`; empty: none),
    /// `ANALYTICS_EXTERNAL_TIMEOUT_MS` (500).
    struct Configuration: Sendable {
        var url: String? = "http://127.0.0.1:8090/data"
        var timeout: Duration = .milliseconds(500)
    }

    /// A call slower than half the timeout counts as slow; a run of failures or slow calls
    /// opens it for 2 s, longer each time it trips again, at most 30 s.
    static func breakerConfiguration(timeout: Duration) -> CircuitBreaker.Configuration {
        CircuitBreaker.Configuration(
            windowSize: 10,
            minimumCalls: 4,
            failureRateThreshold: 0.5,
            slowCallRateThreshold: 0.5,
            slowCallDuration: timeout / 2,
            openDuration: .seconds(2),
            maxOpenDuration: .seconds(30),
            halfOpenProbes: 1
        )
    }

    let configuration: Configuration
    let breaker: CircuitBreaker
    private let http: HTTPClient
    private let lastGood = NIOLockedValueBox<(data: JSONValue, at: Date)?>(nil)
    private let logger: Logger

    init(configuration: Configuration, http: HTTPClient, breaker: CircuitBreaker, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.breaker = breaker
        self.logger = logger
    }

    func fetch(type: String) async -> JSONValue {
        guard let url = configuration.url else { return fallback("no external source is configured") }
        do {
            let data = try await breaker.execute { try await call(url, type: type) }
            lastGood.withLockedValue { $0 = (data, Date()) }
            return ["status": "success", "data": data]
        } catch is CircuitOpenError {
            return fallback("circuit open")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return fallback("timed out")
        } catch let error as DependencyUnavailableError {
            return fallback(error.reason)
        } catch {
            logger.debug("external source failed", metadata: ["error": "\(error)"])
            return fallback("unreachable")
        }
    }

    private func fallback(_ reason: String) -> JSONValue {
        let last = lastGood.withLockedValue { $0 }
        return [
            "status": "fallback", "reason": .string(reason), "last_good": last?.data ?? .null,
            "age_seconds": last.map { .integer(Int64(Date().timeIntervalSince($0.at))) } ?? .null,
        ]
    }

    private func call(_ url: String, type: String) async throws -> JSONValue {
        var components = URLComponents(string: url)
        let items = components?.queryItems ?? []
        components?.queryItems = items + [URLQueryItem(name: "type", value: type)]
        var request = HTTPClientRequest(url: components?.string ?? url)
        request.method = .GET
        let response = try await http.execute(request, timeout: TimeAmount(configuration.timeout))
        let body = try await response.body.collect(upTo: 64 * 1024)
        guard response.status.code == 200 else {
            throw DependencyUnavailableError(dependency: "external", reason: "answered \(response.status.code)")
        }
        guard let data = try? JSONValue.parse(Data(buffer: body)), case .object = data else {
            throw DependencyUnavailableError(dependency: "external", reason: "answered something other than a JSON object")
        }
        return data
    }

    /// Not required (summaries answer with the fallback), but an open breaker shows as
    /// `degraded`.
    var healthCheck: HealthCheck { .breaker(breaker, name: "external") }
}
