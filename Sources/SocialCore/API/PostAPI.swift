import Hummingbird
import Shared

/// `POST /insert_post`, `GET /get_post_info`.
struct PostAPI: Sendable {
    let store: PostStore
    let profiles: ProfileClient

    struct NewPost: Decodable {
        var userID: Int64
        var title: String
        var content: String
        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case title, content
        }
    }

    /// The post, its author's profile, and where the profile came from.
    struct PostWithAuthor: Encodable {
        var post: PostRecord
        var author: AuthorProfile
        var profileSource: ProfileSource

        enum CodingKeys: String, CodingKey {
            case author
            case userName = "user_name"
            case profileSource = "profile_source"
        }

        func encode(to encoder: any Encoder) throws {
            try post.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(author, forKey: .author)
            try container.encode(author.userName, forKey: .userName)
            try container.encode(profileSource, forKey: .profileSource)
        }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.post("/insert_post") { request, context in
            let body = try await request.decodeJSON(as: NewPost.self, context: context)
            let userID = try Validate.id(body.userID, field: "user_id")
            let title = try Validate.text(body.title, field: "title", maximum: 300)
            let content = try Validate.text(body.content, field: "content", maximum: 20000, allowEmpty: true)
            try await profiles.verifyUser(userID, field: "user_id")
            let post = try await store.insert(userID: userID, title: title, content: content)
            return try Response.json(post, status: .created)
        }

        router.get("/get_post_info") { request, _ in
            let postID = try request.idQuery("post_id")
            guard let post = try await store.post(postID) else { throw ProblemDetails.notFound("no post \(postID)") }
            let lookup = await profiles.profile(post.userID)
            let answer = PostWithAuthor(post: post, author: AuthorProfile(userID: post.userID, profile: lookup.profile), profileSource: lookup.source)
            return try Response.json(answer, headers: lookup.source == .cache ? [.fallback: "cache"] : [:])
        }
    }

    static let document = OpenAPIDocument(
        title: "PostService",
        paths: [
            "/get_post_info": [
                "get": [
                    "summary": "A post with its author's profile",
                    "parameters": [["name": "post_id", "in": "query", "required": true, "schema": ["type": "integer", "minimum": 1]]],
                    "responses": [
                        "200": OpenAPIDocument.json(
                            "The post; `X-Fallback: cache` when the author came from the cache",
                            ["$ref": "#/components/schemas/PostWithAuthor"]
                        ),
                        "404": OpenAPIDocument.problem("No such post"),
                        "422": OpenAPIDocument.problem("post_id missing or not a positive integer"),
                        "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                    ],
                ]
            ],
            "/insert_post": [
                "post": [
                    "summary": "Create a post",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["user_id", "title", "content"],
                                    "properties": [
                                        "user_id": ["type": "integer", "minimum": 1],
                                        "title": ["type": "string", "minLength": 1, "maxLength": 300],
                                        "content": ["type": "string", "maxLength": 20000],
                                    ],
                                ]
                            ]
                        ],
                    ],
                    "responses": [
                        "201": OpenAPIDocument.json("Created", ["$ref": "#/components/schemas/Post"]),
                        "400": OpenAPIDocument.problem("Not JSON"),
                        "413": OpenAPIDocument.problem("Body too large"),
                        "422": OpenAPIDocument.problem("A field is missing, of the wrong type or out of range; or no such user"),
                        "503": OpenAPIDocument.problem("The user cannot be verified (Profile down, not cached), or PostgreSQL unavailable"),
                    ],
                ]
            ],
        ],
        schemas: [
            "Post": [
                "type": "object", "required": ["post_id", "user_id", "title", "content", "created_at"],
                "properties": [
                    "post_id": ["type": "integer"], "user_id": ["type": "integer"],
                    "title": ["type": "string"], "content": ["type": "string"],
                    "created_at": ["type": "string", "format": "date-time"],
                ],
            ],
            "AuthorProfile": [
                "type": "object", "required": ["user_id", "user_name"],
                "properties": [
                    "user_id": ["type": "integer"],
                    "user_name": ["type": ["string", "null"]],
                    "created_at": ["type": ["string", "null"]],
                ],
            ],
            "PostWithAuthor": [
                "allOf": [
                    ["$ref": "#/components/schemas/Post"],
                    [
                        "type": "object", "required": ["author", "profile_source"],
                        "properties": [
                            "author": ["$ref": "#/components/schemas/AuthorProfile"],
                            "user_name": ["type": ["string", "null"]],
                            "profile_source": ["type": "string", "enum": ["live", "cache"]],
                        ],
                    ],
                ]
            ],
        ]
    )
}
