import Shared

/// StreamFilter's OpenAPI 3.1 document, served at `/openapi.json` and checked against the
/// live service by schemathesis in the tests (the two delivery routes are documented and
/// left out of the fuzzing: they never end).
enum StreamOpenAPI {
    typealias D = OpenAPIDocument

    static let name: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"]
    static let names: JSONValue = ["type": ["array", "null"], "maxItems": 100, "items": name]

    static let common: [String: JSONValue] = [
        "400": D.problem("Malformed request (not JSON, bad percent-encoding)"),
        "401": D.problem("An API key is required"),
        "403": D.problem("The API key is not valid for this"),
        "422": D.problem("A field is invalid; `field` names it"),
        "429": D.problem("Too many refused API keys from this address"),
    ]
    static let writes: [String: JSONValue] = common.merging([
        "413": D.problem("Body too large"),
        "503": D.problem("A dependency is unavailable; retry after Retry-After"),
    ]) { $1 }
    static func merged(_ base: [String: JSONValue], _ more: [String: JSONValue]) -> [String: JSONValue] {
        base.merging(more) { $1 }
    }

    static let subscriber = D.pathParameter("subscriber_id", name)
    static let ifMatch: JSONValue = ["name": "If-Match", "in": "header", "required": false, "schema": ["type": "string"]]
    static let since: JSONValue = [
        "name": "since", "in": "query", "required": false,
        "description": "Resume after this position (an `id` received); 0 for everything retained",
        "schema": ["type": "string", "pattern": "^[0-9]{1,20}(-[0-9]{1,20})?$"],
    ]

    static var document: OpenAPIDocument {
        let update = D.operation(
            "Partial update: fields sent replace, null clears",
            merged(
                writes,
                ["200": D.withETag("The filter", D.ref("Filter")), "404": D.problem("No filter"), "412": D.problem("If-Match does not hold")]
            ),
            parameters: [subscriber, ifMatch],
            requestBody: D.body(D.ref("FilterUpdate"))
        )
        let paths: [String: JSONValue] = [
            "/filters": [
                "get": D.operation(
                    "Every filter, by subscriber",
                    merged(
                        common,
                        ["200": D.withETag("All filters", ["type": "array", "items": D.ref("Filter")]), "304": ["description": "Not modified"]]
                    )
                ),
                "post": D.operation(
                    "Create a subscriber's filter",
                    merged(writes, ["201": D.withETag("Created", D.ref("Filter")), "409": D.problem("The subscriber has a filter")]),
                    requestBody: D.body(D.ref("FilterInput"))
                ),
            ],
            "/filters/{subscriber_id}": [
                "get": D.operation(
                    "One subscriber's filter",
                    merged(
                        common,
                        ["200": D.withETag("The filter", D.ref("Filter")), "304": ["description": "Not modified"], "404": D.problem("No filter")]
                    ),
                    parameters: [subscriber]
                ),
                "put": update,
                "patch": update,
                "delete": D.operation(
                    "Delete a filter; its connections close with 4410",
                    merged(writes, ["204": ["description": "Deleted"], "404": D.problem("No filter"), "412": D.problem("If-Match does not hold")]),
                    parameters: [subscriber, ifMatch]
                ),
            ],
            "/events": [
                "post": D.operation(
                    "Produce one event, or an array of up to 1000",
                    merged(
                        writes,
                        [
                            "202": D.json(
                                "Appended to the log (or a repeated event_id)",
                                [
                                    "oneOf": [
                                        D.ref("Appended"),
                                        [
                                            "type": "object", "required": ["events"],
                                            "properties": ["events": ["type": "array", "items": D.ref("Appended")]],
                                        ],
                                    ]
                                ]
                            )
                        ]
                    ),
                    requestBody: D.body(["oneOf": [D.ref("Event"), ["type": "array", "minItems": 1, "maxItems": 1000, "items": D.ref("Event")]]])
                )
            ],
            "/sse/{subscriber_id}": [
                "get": D.operation(
                    "The subscriber's matching events as Server-Sent Events (Last-Event-ID resumes)",
                    merged(
                        common,
                        [
                            "200": ["description": "An event stream", "content": ["text/event-stream": ["schema": ["type": "string"]]]],
                            "404": D.problem("No filter for this subscriber"),
                        ]
                    ),
                    parameters: [subscriber, since]
                )
            ],
            "/ws/{subscriber_id}": [
                "get": D.operation(
                    "The subscriber's matching events over WebSocket (close codes in the README)",
                    [
                        "101": ["description": "Switching protocols"],
                        "426": D.problem("Not a WebSocket upgrade"),
                    ],
                    parameters: [subscriber, since]
                )
            ],
        ]
        return OpenAPIDocument(title: "StreamFilter", paths: paths, schemas: schemas)
    }

    static let condition: JSONValue = [
        "type": "object",
        "description": "{\"and\":[…]}, {\"or\":[…]}, {\"not\":…} or {\"field\",\"op\",\"value\"|\"values\"}",
        "properties": [
            "and": ["type": "array", "items": ["$ref": "#/components/schemas/Condition"]],
            "or": ["type": "array", "items": ["$ref": "#/components/schemas/Condition"]],
            "not": ["$ref": "#/components/schemas/Condition"],
            "field": ["type": "string"],
            "op": ["type": "string", "enum": .array(FilterCondition.Operator.allCases.map { .string($0.rawValue) })],
            "value": ["type": ["string", "number", "boolean"]],
            "values": ["type": "array", "items": ["type": ["string", "number", "boolean"]]],
        ],
    ]

    static let filterProperties: JSONValue = [
        "subscriber_id": name,
        "event_types": names,
        "user_tiers": names,
        "min_amount": ["type": ["number", "null"], "minimum": 0],
        "conditions": ["oneOf": [D.ref("Condition"), ["type": "null"]]],
    ]

    static let schemas: [String: JSONValue] = [
        "Condition": condition,
        "FilterInput": ["type": "object", "required": ["subscriber_id"], "properties": filterProperties, "additionalProperties": false],
        "FilterUpdate": ["type": "object", "properties": filterProperties, "additionalProperties": false],
        "Filter": [
            "type": "object",
            "required": ["subscriber_id", "event_types", "user_tiers", "min_amount", "version", "created_at", "updated_at"],
            "properties": [
                "subscriber_id": name,
                "event_types": ["type": "array", "items": name],
                "user_tiers": ["type": "array", "items": name],
                "min_amount": ["type": ["number", "null"]],
                "conditions": D.ref("Condition"),
                "version": ["type": "integer"],
                "created_at": ["type": "string", "format": "date-time"],
                "updated_at": ["type": "string", "format": "date-time"],
            ],
        ],
        "Event": [
            "type": "object",
            "required": ["event_type", "user_id", "user_tier"],
            "properties": [
                "event_type": name,
                "user_id": name,
                "user_tier": ["type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"],
                "amount": ["type": ["number", "null"]],
                "timestamp": ["type": ["string", "null"], "format": "date-time"],
                "event_id": ["oneOf": [name, ["type": "null"]]],
                "properties": ["type": ["object", "null"]],
            ],
            "additionalProperties": false,
        ],
        "Appended": [
            "type": "object",
            "required": ["id", "partition", "duplicate"],
            "properties": ["id": ["type": "string"], "partition": ["type": "integer"], "duplicate": ["type": "boolean"]],
        ],
    ]
}
