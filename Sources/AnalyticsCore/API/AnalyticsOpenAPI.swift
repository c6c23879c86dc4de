import Shared

/// AnalyticsService's OpenAPI 3.1 document, served at `/openapi.json` and checked against
/// the live service by schemathesis in the tests.
enum AnalyticsOpenAPI {
    typealias D = OpenAPIDocument

    static let rateLimitHeaders: JSONValue = [
        "RateLimit-Policy": ["schema": ["type": "string"]], "RateLimit": ["schema": ["type": "string"]],
        "X-RateLimit-Limit": ["schema": ["type": "string"]], "X-RateLimit-Remaining": ["schema": ["type": "string"]],
        "X-RateLimit-Reset": ["schema": ["type": "string"]],
    ]
    static let ingestErrors: [String: JSONValue] = [
        "400": D.problem("Malformed JSON"),
        "413": D.problem("Body too large"),
        "422": D.problem("A field is invalid; `field` names it"),
        "429": D.problem("Rate limit exceeded; retry after Retry-After"),
        "503": D.problem("PostgreSQL is unavailable; nothing was stored"),
    ]

    static func created(_ description: String, _ schema: JSONValue) -> JSONValue {
        ["description": .string(description), "headers": rateLimitHeaders, "content": ["application/json": ["schema": schema]]]
    }

    static func query(_ name: String, _ description: String, _ schema: JSONValue, required: Bool = false) -> JSONValue {
        ["name": .string(name), "in": "query", "required": .bool(required), "description": .string(description), "schema": schema]
    }

    static let number: JSONValue = ["type": ["number", "null"]]
    static let figures: [String: JSONValue] = [
        "count": ["type": "integer"], "average_value": ["type": "number"], "sum": ["type": "number"], "min": number,
        "max": number, "p50": number, "p95": number, "p99": number, "from": ["type": "string"], "to": ["type": "string"],
    ]

    static var document: OpenAPIDocument {
        let paths: [String: JSONValue] = [
            "/api/metrics": [
                "post": D.operation(
                    "Record one point (rate limited per API key or client address)",
                    ingestErrors.merging(["201": created("The stored point", D.ref("StoredPoint"))]) { $1 },
                    requestBody: D.body(D.ref("Point"))
                )
            ],
            "/api/metrics/batch": [
                "post": D.operation(
                    "Record up to 1000 points, all or nothing; the batch counts its points against the limit",
                    ingestErrors.merging([
                        "201": created(
                            "The stored points, in order",
                            [
                                "type": "object", "required": ["count", "points"],
                                "properties": ["count": ["type": "integer"], "points": ["type": "array", "items": D.ref("StoredPoint")]],
                            ]
                        )
                    ]) { $1 },
                    requestBody: D.body(["type": "array", "minItems": 1, "maxItems": 1000, "items": D.ref("Point")])
                )
            ],
            "/api/metrics/summary": [
                "get": D.operation(
                    "Figures of a type over a period or range, read through the cache",
                    [
                        "200": [
                            "description": "The summary; Cache-Status and Age say how it was found",
                            "headers": ["Cache-Status": ["schema": ["type": "string"]], "Age": ["schema": ["type": "string"]]],
                            "content": ["application/json": ["schema": D.ref("Summary")]],
                        ],
                        "400": D.problem("Malformed query"),
                        "422": D.problem("A parameter is invalid; `field` names it"),
                        "503": D.problem("PostgreSQL is unavailable and nothing is cached"),
                    ],
                    parameters: [
                        query("type", "The metric type", ["type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"], required: true),
                        query(
                            "period",
                            "A trailing window ending with the current minute",
                            ["type": "string", "enum": ["minute", "hour", "daily", "weekly", "monthly"]]
                        ),
                        query(
                            "from",
                            "Start of a range instead of a period (RFC 3339, rounded down to the minute)",
                            ["type": "string", "format": "date-time"]
                        ),
                        query("to", "End of the range (exclusive)", ["type": "string", "format": "date-time"]),
                        query("bucket", "Split into a series", ["type": "string", "enum": ["minute", "hour", "day"]]),
                        query("tz", "IANA time zone the series' hours and days follow (default UTC)", ["type": "string"]),
                    ]
                )
            ],
        ]
        let schemas: [String: JSONValue] = [
            "Point": [
                "type": "object", "required": ["timestamp", "value", "type"], "additionalProperties": false,
                "properties": [
                    "timestamp": ["type": "string", "format": "date-time", "description": "RFC 3339 with an offset, within the late window"],
                    "value": ["type": "number"],
                    "type": ["type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"],
                ],
            ],
            "StoredPoint": [
                "type": "object", "required": ["id", "timestamp", "value", "type"],
                "properties": [
                    "id": ["type": "integer"], "timestamp": ["type": "string"], "value": ["type": "number"], "type": ["type": "string"],
                ],
            ],
            "Summary": [
                "type": "object",
                "required": ["type", "period", "average_value", "count", "external_data", "from", "to"],
                "properties": .object(
                    figures.merging([
                        "type": ["type": "string"], "period": ["type": "string"], "bucket": ["type": "string"], "tz": ["type": "string"],
                        "stale": ["type": "boolean"], "age_seconds": ["type": "integer"],
                        "series": ["type": "array", "items": ["type": "object", "properties": .object(figures)]],
                        "external_data": [
                            "type": "object", "required": ["status"],
                            "properties": ["status": ["type": "string", "enum": ["success", "fallback"]], "reason": ["type": "string"]],
                        ],
                    ]) { $1 }
                ),
            ],
        ]
        return OpenAPIDocument(title: "AnalyticsService", paths: paths, schemas: schemas)
    }
}
