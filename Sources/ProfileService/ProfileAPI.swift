import Foundation
import Hummingbird
import Logging
import Shared

/// `GET /get_user_info`, `POST /insert_new_user`.
struct ProfileAPI: Sendable {
    let postgres: PostgresClient
    let cache: ProfileCache

    struct NewUser: Decodable {
        var userName: String
        enum CodingKeys: String, CodingKey { case userName = "user_name" }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/get_user_info") { request, _ in
            let userID = try request.idQuery("user_id")
            let rows = try await postgres.query(
                "SELECT user_id, user_name, created_at FROM social.users WHERE user_id = $1", [userID]
            )
            guard let row = rows.first else { throw ProblemDetails.notFound("no user \(userID)") }
            return try Response.json(try Self.profile(row))
        }

        router.post("/insert_new_user") { request, context in
            let body = try await request.decodeJSON(as: NewUser.self, context: context)
            let name = try Validate.text(body.userName, field: "user_name", maximum: 100)
            let row = try await postgres.query(
                "INSERT INTO social.users (user_name) VALUES ($1) RETURNING user_id, user_name, created_at", [name]
            ).first!
            let profile = try Self.profile(row)
            // Seed the callers' cache, so a new user can post even if Profile goes down
            // before anyone has read the profile.
            await cache.store(profile)
            return try Response.json(profile, status: .created)
        }
    }

    static func profile(_ row: PostgresRow) throws -> Profile {
        Profile(
            userID: try row.decode("user_id", as: Int64.self),
            userName: try row.decode("user_name", as: String.self),
            createdAt: Timestamp.iso8601(try row.decode("created_at", as: Date.self))
        )
    }

    static let document = OpenAPIDocument(
        title: "ProfileService",
        paths: [
            "/get_user_info": ["get": [
                "summary": "A user's profile",
                "parameters": [["name": "user_id", "in": "query", "required": true, "schema": ["type": "integer", "minimum": 1]]],
                "responses": [
                    "200": OpenAPIDocument.json("The profile", ["$ref": "#/components/schemas/Profile"]),
                    "404": OpenAPIDocument.problem("No such user"),
                    "422": OpenAPIDocument.problem("user_id missing or not a positive integer"),
                    "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                ],
            ]],
            "/insert_new_user": ["post": [
                "summary": "Create a user",
                "requestBody": ["required": true, "content": ["application/json": ["schema": [
                    "type": "object", "required": ["user_name"],
                    "properties": ["user_name": ["type": "string", "minLength": 1, "maxLength": 100]],
                ]]]],
                "responses": [
                    "201": OpenAPIDocument.json("Created", ["$ref": "#/components/schemas/Profile"]),
                    "400": OpenAPIDocument.problem("Not JSON"),
                    "413": OpenAPIDocument.problem("Body too large"),
                    "422": OpenAPIDocument.problem("user_name missing, empty or too long"),
                    "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                ],
            ]],
        ],
        schemas: [
            "Profile": [
                "type": "object", "required": ["user_id", "user_name"],
                "properties": [
                    "user_id": ["type": "integer"],
                    "user_name": ["type": "string"],
                    "created_at": ["type": "string", "format": "date-time"],
                ],
            ],
        ]
    )
}
