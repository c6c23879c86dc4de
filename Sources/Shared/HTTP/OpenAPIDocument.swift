/// The service's OpenAPI 3.1 document, served at `/openapi.json`: the common endpoints every
/// service has, plus the service's own paths.
public struct OpenAPIDocument: Sendable {
    public var title: String
    public var version: String
    public var paths: [String: JSONValue]
    public var schemas: [String: JSONValue]

    public init(title: String, version: String = SuiteVersion.current, paths: [String: JSONValue] = [:], schemas: [String: JSONValue] = [:]) {
        self.title = title
        self.version = version
        self.paths = paths
        self.schemas = schemas
    }

    public var json: JSONValue {
        var allPaths = Self.commonPaths
        for (path, item) in paths { allPaths[path] = item }
        var allSchemas = Self.commonSchemas
        for (name, schema) in schemas { allSchemas[name] = schema }
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": .string(version)],
            "paths": .object(allPaths),
            "components": ["schemas": .object(allSchemas)],
        ]
    }

    /// A response that is a problem+json document.
    public static func problem(_ description: String) -> JSONValue {
        [
            "description": .string(description),
            "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]],
        ]
    }

    /// A response with a JSON body of `schema`.
    public static func json(_ description: String, _ schema: JSONValue) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }

    /// An operation: its summary, responses by status, parameters and request body.
    public static func operation(
        _ summary: String,
        _ responses: [String: JSONValue],
        parameters: [JSONValue] = [],
        requestBody: JSONValue? = nil
    ) -> JSONValue {
        var operation: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses)]
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let requestBody { operation["requestBody"] = requestBody }
        return .object(operation)
    }

    /// A reference to a schema of the document's components.
    public static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// A required JSON request body of `schema`.
    public static func body(_ schema: JSONValue) -> JSONValue {
        ["required": true, "content": ["application/json": ["schema": schema]]]
    }

    /// A JSON response of `schema` carrying an `ETag`.
    public static func withETag(_ description: String, _ schema: JSONValue) -> JSONValue {
        [
            "description": .string(description), "headers": ["ETag": ["schema": ["type": "string"]]],
            "content": ["application/json": ["schema": schema]],
        ]
    }

    /// A required path parameter.
    public static func pathParameter(_ name: String, _ schema: JSONValue = ["type": "string"]) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": schema]
    }

    static let healthSummary: JSONValue = [
        "type": "object",
        "required": ["status"],
        "properties": [
            "status": ["type": "string", "enum": ["ok", "degraded", "down"]],
            "service": ["type": "string"],
            "instance": ["type": "string"],
            "version": ["type": "string"],
            "checks": ["type": "object", "additionalProperties": ["type": "string", "enum": ["up", "degraded", "down"]]],
        ],
        "additionalProperties": true,
    ]

    static let commonPaths: [String: JSONValue] = [
        "/health/live": [
            "get": [
                "summary": "The process is up",
                "responses": ["200": json("Alive", ["type": "object", "properties": ["status": ["type": "string"]]])],
            ]
        ],
        "/health/ready": [
            "get": [
                "summary": "Every required dependency answers",
                "responses": [
                    "200": json("Ready", healthSummary),
                    "503": json("A required dependency is down", healthSummary),
                ],
            ]
        ],
        "/health": [
            "get": [
                "summary": "Health summary with each dependency's state",
                "responses": ["200": json("Summary", healthSummary)],
            ]
        ],
        "/metrics": [
            "get": [
                "summary": "Prometheus metrics",
                "responses": ["200": ["description": "Prometheus text format", "content": ["text/plain": ["schema": ["type": "string"]]]]],
            ]
        ],
        "/openapi.json": [
            "get": [
                "summary": "This document",
                "responses": ["200": json("OpenAPI 3.1 document", ["type": "object"])],
            ]
        ],
        "/docs": [
            "get": [
                "summary": "This document as a page",
                "responses": ["200": ["description": "HTML", "content": ["text/html": ["schema": ["type": "string"]]]]],
            ]
        ],
    ]

    static let commonSchemas: [String: JSONValue] = [
        "Problem": [
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": [
                "type": ["type": "string"],
                "title": ["type": "string"],
                "status": ["type": "integer"],
                "detail": ["type": "string"],
                "field": ["type": "string"],
            ],
        ]
    ]
}
