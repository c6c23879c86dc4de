import Shared

/// FlagService's OpenAPI 3.1 document, served at `/openapi.json` and checked against the
/// live service by schemathesis in the test suite.
enum FlagOpenAPI {
    typealias D = OpenAPIDocument

    static let name: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"]
    static let nullableTimestamp: JSONValue = ["type": ["string", "null"], "format": "date-time"]
    static let notModified: JSONValue = ["description": "Not modified (If-None-Match)"]

    /// Problems every route can answer.
    static let common: [String: JSONValue] = [
        "400": D.problem("Malformed request (not JSON, bad percent-encoding)"),
        "401": D.problem("An API key is required"),
        "403": D.problem("The API key is not valid for this"),
    ]
    static let writeProblems: [String: JSONValue] = common.merging([
        "413": D.problem("Body too large"),
        "422": D.problem("A field is invalid; `field` names it"),
        "503": D.problem("PostgreSQL unavailable; retry after Retry-After"),
    ]) { $1 }

    /// CRUD and history for flags or segments.
    static func entityPaths(_ base: String, _ parameter: String, _ schema: String, _ what: String) -> [String: JSONValue] {
        let item = D.pathParameter(parameter, name)
        let ifMatch: JSONValue = ["name": "If-Match", "in": "header", "required": false, "schema": ["type": "string"]]
        let update = D.operation(
            "Partial update of a \(what): fields sent replace, null clears",
            writeProblems.merging([
                "200": D.withETag("The \(what)", D.ref(schema)),
                "404": D.problem("No such \(what)"),
                "412": D.problem("If-Match does not hold"),
            ]) { $1 },
            parameters: [item, ifMatch],
            requestBody: D.body(D.ref(schema + "Update"))
        )
        return [
            base: [
                "get": D.operation(
                    "Every \(what)",
                    common.merging([
                        "200": D.withETag("All \(what)s by name", ["type": "array", "items": D.ref(schema)]),
                        "304": notModified,
                    ]) { $1 }
                ),
                "post": D.operation(
                    "Create a \(what)",
                    writeProblems.merging([
                        "201": D.withETag("Created", D.ref(schema)),
                        "409": D.problem("It exists"),
                    ]) { $1 },
                    requestBody: D.body(D.ref(schema + "Input"))
                ),
            ],
            "\(base)/{\(parameter)}": [
                "get": D.operation(
                    "One \(what)",
                    common.merging([
                        "200": D.withETag("The \(what)", D.ref(schema)),
                        "304": notModified,
                        "404": D.problem("No such \(what)"),
                    ]) { $1 },
                    parameters: [item]
                ),
                "put": update,
                "patch": update,
                "delete": D.operation(
                    "Delete a \(what)",
                    writeProblems.merging([
                        "204": ["description": "Deleted"],
                        "404": D.problem("No such \(what)"),
                        "409": D.problem("Other flags use it"),
                        "412": D.problem("If-Match does not hold"),
                    ]) { $1 },
                    parameters: [item, ifMatch]
                ),
            ],
            "\(base)/{\(parameter)}/history": [
                "get": D.operation(
                    "Every change to a \(what), newest first (kept after a delete)",
                    common.merging([
                        "200": D.json("The history", D.ref("History")),
                        "404": D.problem("No history"),
                        "422": D.problem("limit out of range"),
                        "503": D.problem("PostgreSQL unavailable"),
                    ]) { $1 },
                    parameters: [
                        item, ["name": "limit", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1, "maximum": 1000]],
                    ]
                )
            ],
        ]
    }

    static let ofrepProblems: [String: JSONValue] = [
        "401": ["description": "An API key is required"],
        "403": ["description": "The API key is not valid"],
        "413": D.problem("Body too large"),
        "429": ["description": "Rate limited", "headers": ["Retry-After": ["schema": ["type": "string"]]]],
    ]

    static let paths: [String: JSONValue] = entityPaths("/flags", "flag_name", "Flag", "flag")
        .merging(entityPaths("/segments", "segment_name", "Segment", "segment")) { $1 }
        .merging([
            "/users/{user_id}/flags/{flag_name}": [
                "get": D.operation(
                    "Evaluate one flag for a user; query parameters are context attributes",
                    common.merging(["200": D.json("The evaluation", D.ref("Evaluation")), "404": D.problem("No such flag")]) { $1 },
                    parameters: [D.pathParameter("user_id"), D.pathParameter("flag_name")]
                )
            ],
            "/users/{user_id}/flags": [
                "get": D.operation(
                    "Evaluate every flag for a user",
                    common.merging(["200": D.json("The evaluations", D.ref("UserFlags")), "404": D.problem("Not found")]) { $1 },
                    parameters: [D.pathParameter("user_id")]
                )
            ],
            "/ofrep/v1/evaluate/flags/{key}": [
                "post": D.operation(
                    "OFREP single flag evaluation",
                    ofrepProblems.merging([
                        "200": D.json("Evaluated", D.ref("OFREPSuccess")),
                        "400": D.json("PARSE_ERROR, INVALID_CONTEXT or TARGETING_KEY_MISSING", D.ref("OFREPFailure")),
                        "404": D.json("FLAG_NOT_FOUND", D.ref("OFREPFailure")),
                    ]) { $1 },
                    parameters: [D.pathParameter("key")],
                    requestBody: ["content": ["application/json": ["schema": D.ref("OFREPRequest")]]]
                )
            ],
            "/ofrep/v1/evaluate/flags": [
                "post": D.operation(
                    "OFREP bulk evaluation",
                    ofrepProblems.merging([
                        "200": D.withETag("Every flag evaluated", D.ref("OFREPBulk")),
                        "304": notModified,
                        "400": D.json("PARSE_ERROR or INVALID_CONTEXT", D.ref("OFREPBulkFailure")),
                    ]) { $1 },
                    parameters: [["name": "If-None-Match", "in": "header", "required": false, "schema": ["type": "string"]]],
                    requestBody: ["content": ["application/json": ["schema": D.ref("OFREPRequest")]]]
                )
            ],
            "/ofrep/v1/configuration": [
                "get": D.operation(
                    "OFREP provider configuration",
                    common.merging([
                        "200": D.json("Capabilities", ["type": "object"])
                    ]) { $1 }
                )
            ],
            "/events": [
                "get": D.operation(
                    "Flag and segment changes as Server-Sent Events",
                    common.merging([
                        "200": [
                            "description": "An event stream: a snapshot event, then flag and segment events",
                            "content": ["text/event-stream": ["schema": ["type": "string"]]],
                        ]
                    ]) { $1 },
                    parameters: [["name": "flags", "in": "query", "required": false, "schema": ["type": "string"]]]
                )
            ],
        ]) { $1 }

    static let condition: JSONValue = [
        "type": "object", "required": ["operator", "values"],
        "properties": [
            "attribute": ["type": "string", "minLength": 1, "maxLength": 256],
            "operator": ["type": "string", "enum": .array(Condition.Operator.allCases.map { .string($0.rawValue) })],
            "values": ["type": "array", "minItems": 1],
        ],
    ]

    static let flagProperties: [String: JSONValue] = [
        "flag_name": name,
        "status": ["type": "boolean"],
        "rollout_percentage": ["type": "number", "minimum": 0, "maximum": 100],
        "description": ["type": "string", "maxLength": 2000],
        "killed": ["type": "boolean"],
        "variants": [
            "type": "array",
            "items": [
                "type": "object", "required": ["name", "value"],
                "properties": ["name": name, "weight": ["type": "number", "minimum": 0], "value": [:]],
            ],
        ],
        "off_variant": ["type": ["string", "null"]],
        "rules": [
            "type": "array",
            "items": [
                "type": "object", "required": ["conditions", "serve"],
                "properties": [
                    "name": ["type": "string"],
                    "conditions": ["type": "array", "minItems": 1, "items": condition],
                    "serve": [
                        "type": "object",
                        "properties": [
                            "enabled": ["type": "boolean"], "variant": ["type": "string"],
                            "rollout_percentage": ["type": "number", "minimum": 0, "maximum": 100],
                        ],
                    ],
                ],
            ],
        ],
        "prerequisites": [
            "type": "array",
            "items": [
                "type": "object", "required": ["flag_name"],
                "properties": ["flag_name": name, "variant": ["type": "string"]],
            ],
        ],
        "enable_at": nullableTimestamp,
        "disable_at": nullableTimestamp,
    ]

    static let segmentProperties: [String: JSONValue] = [
        "segment_name": name,
        "description": ["type": "string", "maxLength": 2000],
        "included": ["type": "array", "items": ["type": "string"]],
        "excluded": ["type": "array", "items": ["type": "string"]],
        "conditions": ["type": "array", "items": condition],
    ]

    static let bookkeeping: [String: JSONValue] = [
        "version": ["type": "integer"],
        "created_at": ["type": "string", "format": "date-time"],
        "updated_at": ["type": "string", "format": "date-time"],
    ]

    static func record(_ properties: [String: JSONValue]) -> JSONValue {
        let all = properties.merging(bookkeeping) { $1 }
        return ["type": "object", "required": .array(all.keys.sorted().map(JSONValue.string)), "properties": .object(all)]
    }

    static let evaluationFields: [String: JSONValue] = [
        "flag_name": ["type": "string"],
        "enabled": ["type": "boolean"],
        "variant": ["type": "string"],
        "value": [:],
        "reason": ["type": "string", "enum": ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT"]],
    ]

    static let ofrepSuccess: JSONValue = [
        "type": "object", "required": ["key", "reason", "variant"],
        "properties": [
            "key": ["type": "string"], "value": [:], "variant": ["type": "string"],
            "reason": ["type": "string", "enum": ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT"]],
            "metadata": ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean"]]],
        ],
    ]
    static let ofrepFailure: JSONValue = [
        "type": "object", "required": ["key", "errorCode"],
        "properties": [
            "key": ["type": "string"],
            "errorCode": ["type": "string", "enum": ["PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL", "FLAG_NOT_FOUND"]],
            "errorDetails": ["type": "string"],
        ],
    ]

    static let document = OpenAPIDocument(
        title: "FlagService",
        paths: paths,
        schemas: [
            "Flag": record(flagProperties),
            "FlagInput": ["type": "object", "required": ["flag_name"], "properties": .object(flagProperties)],
            "FlagUpdate": ["type": "object", "properties": .object(flagProperties)],
            "Segment": record(segmentProperties),
            "SegmentInput": ["type": "object", "required": ["segment_name"], "properties": .object(segmentProperties)],
            "SegmentUpdate": ["type": "object", "properties": .object(segmentProperties)],
            "History": [
                "type": "object", "required": ["history"],
                "properties": [
                    "history": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["version", "action", "actor", "at", "before", "after"],
                            "properties": [
                                "version": ["type": "integer"],
                                "action": ["type": "string", "enum": ["create", "update", "delete"]],
                                "actor": ["type": "string"],
                                "at": ["type": "string", "format": "date-time"],
                                "before": ["type": ["object", "null"]],
                                "after": ["type": ["object", "null"]],
                            ],
                        ],
                    ]
                ],
            ],
            "Evaluation": [
                "type": "object", "required": ["user_id", "flag_name", "enabled", "variant", "value", "reason"],
                "properties": .object(evaluationFields.merging(["user_id": ["type": "string"]]) { $1 }),
            ],
            "UserFlags": [
                "type": "object", "required": ["user_id", "flags"],
                "properties": [
                    "user_id": ["type": "string"],
                    "flags": [
                        "type": "array", "items": ["type": "object", "required": ["flag_name", "enabled"], "properties": .object(evaluationFields)],
                    ],
                ],
            ],
            "OFREPRequest": ["type": "object", "properties": ["context": ["type": "object", "properties": ["targetingKey": ["type": "string"]]]]],
            "OFREPSuccess": ofrepSuccess,
            "OFREPFailure": ofrepFailure,
            "OFREPBulk": [
                "type": "object", "required": ["flags"],
                "properties": ["flags": ["type": "array", "items": ["oneOf": [ofrepSuccess, ofrepFailure]]]],
            ],
            "OFREPBulkFailure": [
                "type": "object", "required": ["errorCode"], "properties": ["errorCode": ["type": "string"], "errorDetails": ["type": "string"]],
            ],
        ]
    )
}
