import Hummingbird
import Shared

/// `GET /get_user_info`, `POST /insert_new_user`.
struct ProfileAPI: Sendable {
    let store: ProfileStore
    let cache: ProfileCache

    struct NewUser: Decodable {
        var userName: String
        enum CodingKeys: String, CodingKey { case userName = "user_name" }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/get_user_info") { request, _ in
            let userID = try request.idQuery("user_id")
            guard let profile = try await store.profile(userID) else { throw ProblemDetails.notFound("no user \(userID)") }
            return try Response.json(profile)
        }

        router.post("/insert_new_user") { request, context in
            let body = try await request.decodeJSON(as: NewUser.self, context: context)
            let name = try Validate.text(body.userName, field: "user_name", maximum: 100)
            let profile = try await store.insert(userName: name)
            // Seed the callers' cache, so a new user can post even if Profile goes down
            // before anyone has read the profile.
            await cache.store(profile)
            return try Response.json(profile, status: .created)
        }
    }

    static let document = OpenAPIDocument(
        title: "ProfileService",
        paths: [
            "/get_user_info": [
                "get": [
                    "summary": "A user's profile",
                    "parameters": [["name": "user_id", "in": "query", "required": true, "schema": ["type": "integer", "minimum": 1]]],
                    "responses": [
                        "200": OpenAPIDocument.json("The profile", ["$ref": "#/components/schemas/Profile"]),
                        "404": OpenAPIDocument.problem("No such user"),
                        "422": OpenAPIDocument.problem("user_id missing or not a positive integer"),
                        "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                    ],
                ]
            ],
            "/insert_new_user": [
                "post": [
                    "summary": "Create a user",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["user_name"],
                                    "properties": ["user_name": ["type": "string", "minLength": 1, "maxLength": 100]],
                                ]
                            ]
                        ],
                    ],
                    "responses": [
                        "201": OpenAPIDocument.json("Created", ["$ref": "#/components/schemas/Profile"]),
                        "400": OpenAPIDocument.problem("Not JSON"),
                        "413": OpenAPIDocument.problem("Body too large"),
                        "422": OpenAPIDocument.problem("user_name missing, empty or too long"),
                        "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                    ],
                ]
            ],
        ],
        schemas: [
            "Profile": [
                "type": "object", "required": ["user_id", "user_name"],
                "properties": [
                    "user_id": ["type": "integer"],
                    "user_name": ["type": "string"],
                    "created_at": ["type": "string", "format": "date-time"],
                ],
            ]
        ]
    )
}
