import Foundation
import Hummingbird

extension Router where Context == ServiceRequestContext {
    /// `/health/live`, `/health/ready`, `/health`, `/metrics`, `/openapi.json` and `/docs`
    /// (the document as a page, linking `docsLinks`).
    public func addCommonRoutes(health: HealthReporter, metrics: ServiceMetrics, openAPI: OpenAPIDocument, docsLinks: [APIDocsPage.Link] = []) {
        get(RouterPath(HealthPaths.live)) { _, _ in
            try Response.json(["status": "ok"] as JSONValue)
        }
        get(RouterPath(HealthPaths.ready)) { _, _ in
            let snapshot = await health.current()
            var response = try Response.json(health.summary(snapshot), status: snapshot.ready ? .ok : .serviceUnavailable)
            if !snapshot.ready { response.headers[.retryAfter] = "1" }
            return response
        }
        get("/health") { _, _ in
            try Response.json(health.summary(await health.current(), details: await health.readDetails()))
        }
        get(RouterPath(HealthPaths.metrics)) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
            )
        }
        let document = try? Response.json(openAPI.json)
        get("/openapi.json") { _, _ in
            document ?? Response(status: .internalServerError)
        }
        let page = ByteBuffer(string: APIDocsPage(openAPI.json, links: docsLinks).html)
        get("/docs") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    // The page needs nothing but its own inline styles.
                    .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
                ],
                body: .init(byteBuffer: page)
            )
        }
    }
}

extension Router where Context == ServiceRequestContext {
    /// `GET /_bench/bare`: a fixed JSON body of about `bytes` bytes behind the same middleware
    /// as every route, the baseline the benchmarks compare a service's routes against in the
    /// same process. Only added when `BENCH_BARE_ROUTE=1`.
    public func addBareBenchRoute(bytes: Int) {
        let padding = String(repeating: "x", count: max(0, bytes - 16))
        let body = ByteBuffer(string: "{\"padding\":\"\(padding)\"}")
        get("/_bench/bare") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
    }
}

extension HealthReporter {
    /// The seed-compatible summary: `status` is `ok` or `degraded` (or `down` while shutting
    /// down), `checks` holds each dependency, and each dependency also appears at the top
    /// level as `healthy`/`unhealthy`, as older clients read it (`"redis": "healthy"`);
    /// `details` are the service's own members (``addDetail(_:_:)``).
    func summary(_ snapshot: Snapshot, details: [String: JSONValue] = [:]) -> JSONValue {
        var object: [String: JSONValue] = [
            "status": .string(snapshot.status == .up ? "ok" : snapshot.status.rawValue),
            "service": .string(service),
            "instance": .string(instance),
            "version": .string(version),
            "checks": .object(snapshot.checks.mapValues { .string($0.rawValue) }),
        ]
        for (name, status) in snapshot.checks {
            object[name] = .string(status == .up ? "healthy" : "unhealthy")
        }
        for (name, detail) in details { object[name] = detail }
        return .object(object)
    }
}

extension Response {
    /// A JSON response from any `Encodable`, written by the request context's
    /// `responseEncoder`.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = try ServiceRequestContext.encoder.encode(value)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
