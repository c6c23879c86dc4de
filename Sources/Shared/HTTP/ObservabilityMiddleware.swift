import Hummingbird
import Logging

/// Counts and times every request by route template (not raw path, so metrics stay
/// bounded), and writes one access log line. Health and metrics scrapes log at debug.
public struct ObservabilityMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let metrics: ServiceMetrics

    public init(metrics: ServiceMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        let quiet = route.hasPrefix("/health") || route == "/metrics"
        context.logger.log(
            level: quiet ? .debug : .info,
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)",
                "http.path": "\(request.uri.path)",
                "http.route": "\(route)",
                "http.status": "\(response.status.code)",
                "http.duration_ms": "\(Double(elapsed.millisecondsRoundedUp))",
            ]
        )
        return response
    }
}
