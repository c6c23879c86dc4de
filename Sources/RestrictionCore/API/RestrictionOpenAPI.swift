import Shared

/// RestrictionConsumer's OpenAPI 3.1 document, served at `/openapi.json`.
enum RestrictionOpenAPI {
    typealias D = OpenAPIDocument

    static let unavailable = D.problem("Redis unavailable; retry after Retry-After")
    static let userQuery: JSONValue = ["name": "user_id", "in": "query", "required": true, "schema": ["type": "string", "minLength": 1]]
    static let ruleState: JSONValue = [
        "type": "object",
        "required": ["name", "clears", "when", "state", "window_users", "known_users", "restricted", "held", "trips"],
        "properties": [
            "name": ["type": "string"], "description": ["type": "string"], "clears": ["type": "string"],
            "when": ["type": "array", "items": ["type": "object"]],
            "state": ["enum": ["armed", "tripped"]], "tripped_at": ["type": ["string", "null"], "format": "date-time"],
            "window_users": ["type": "integer"], "known_users": ["type": "integer"], "restricted": ["type": "integer"],
            "held": ["type": "integer"], "trips": ["type": "integer"], "was_tripped": ["type": "boolean"],
        ],
    ]
    static let restriction: JSONValue = [
        "type": "object", "required": ["access", "rule", "at", "event"],
        "properties": [
            "access": ["type": "string"], "rule": ["type": "string"], "at": ["type": "string", "format": "date-time"],
            "event": ["type": "string"],
        ],
    ]

    static func access(_ name: String) -> JSONValue {
        D.operation(
            "Whether the user may \(name == "can_message" ? "send messages" : "purchase"); a user never seen may",
            [
                "200": D.json(
                    "The answer",
                    ["type": "object", "required": .array([.string(name)]), "properties": .object([name: ["type": "boolean"]])]
                ),
                "422": D.problem("user_id is missing"),
                "503": unavailable,
            ],
            parameters: [userQuery]
        )
    }

    static let document = OpenAPIDocument(
        title: "RestrictionConsumer",
        paths: [
            "/event": [
                "post": D.operation(
                    "Log an event for the consumers",
                    [
                        "200": D.json(
                            "Logged (or, for a repeated event_id, logged before)",
                            [
                                "type": "object", "required": ["status", "stream_id"],
                                "properties": ["status": ["type": "string"], "stream_id": ["type": "string"], "event_id": ["type": "string"]],
                            ]
                        ),
                        "400": D.problem("Not JSON"),
                        "413": D.problem("Body too large"),
                        "422": D.problem("A field is invalid; `field` names it"),
                        "503": unavailable,
                    ],
                    parameters: [["name": "Idempotency-Key", "in": "header", "required": false, "schema": ["type": "string"]]],
                    requestBody: [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["name", "event_properties"],
                                    "properties": [
                                        "name": ["type": "string"], "event_id": ["type": "string"],
                                        "event_properties": [
                                            "type": "object", "required": ["user_id"],
                                            "properties": [
                                                "user_id": ["type": ["string", "integer"]], "amount": ["type": "number", "minimum": 0],
                                                "card_id": ["type": ["string", "integer"]], "zip_code": ["type": ["string", "integer"]],
                                            ],
                                        ],
                                    ],
                                ]
                            ]
                        ],
                    ]
                )
            ],
            "/canmessage": ["get": access("can_message")],
            "/canpurchase": ["get": access("can_purchase")],
            "/users/{user_id}/restrictions": [
                "get": D.operation(
                    "A user's restrictions, held matches and metrics",
                    [
                        "200": D.json(
                            "The user's state",
                            [
                                "type": "object", "required": ["user_id", "restrictions", "held", "metrics", "events_received", "events_applied"],
                                "properties": [
                                    "user_id": ["type": "string"], "restrictions": ["type": "array", "items": restriction],
                                    "held": ["type": "array", "items": restriction], "metrics": ["type": "object"],
                                    "events_received": ["type": "integer"], "events_applied": ["type": "integer"],
                                ],
                            ]
                        ),
                        "503": unavailable,
                    ],
                    parameters: [D.pathParameter("user_id")]
                )
            ],
            "/rules": [
                "get": D.operation(
                    "The rules and their tripwires",
                    [
                        "200": D.json(
                            "Rules",
                            [
                                "type": "object", "required": ["rules", "tripwire"],
                                "properties": [
                                    "rules": ["type": "array", "items": ruleState], "tripwire": ["type": "object"],
                                ],
                            ]
                        ),
                        "503": unavailable,
                    ]
                )
            ],
            "/rules/{name}/reset": [
                "post": D.operation(
                    "Re-arm a rule's tripwire (admin key)",
                    [
                        "200": D.json("The rule, re-armed", ruleState),
                        "401": D.problem("An API key is required"),
                        "403": D.problem("The API key is not valid"),
                        "404": D.problem("No such rule"),
                        "503": unavailable,
                    ],
                    parameters: [D.pathParameter("name")]
                )
            ],
            "/stream": [
                "get": D.operation(
                    "The event stream's progress",
                    [
                        "200": D.json(
                            "Length, lag, pending, dead letters, summed over the partitions (`partitions` names their streams; `stream` is the first)",
                            ["type": "object"]
                        ),
                        "503": unavailable,
                    ]
                )
            ],
        ]
    )
}
