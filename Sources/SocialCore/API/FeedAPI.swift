import Hummingbird
import Shared

/// `GET /fetch_feed`, `POST /submit_impression`, `GET /get_trending_user_info`.
struct FeedAPI: Sendable {
    let store: FeedStore
    let posts: PostStore
    let profiles: ProfileClient

    /// How many posts the feed and the trending list consider.
    static let topCount = 10

    struct Impression: Decodable {
        var postID: Int64
        var userID: Int64
        var impressionType: String
        enum CodingKeys: String, CodingKey {
            case postID = "post_id"
            case userID = "user_id"
            case impressionType = "impression_type"
        }
    }

    struct Feed: Encodable {
        var topPosts: [RankedPost]
        enum CodingKeys: String, CodingKey { case topPosts = "top_posts" }
    }

    struct Trending: Encodable {
        var trendingUsers: [AuthorProfile]
        var profileSource: ProfileSource
        enum CodingKeys: String, CodingKey {
            case trendingUsers = "trending_users"
            case profileSource = "profile_source"
        }
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/fetch_feed") { _, _ in
            try Response.json(Feed(topPosts: try await store.topPosts(Self.topCount)))
        }

        router.post("/submit_impression") { request, context in
            let body = try await request.decodeJSON(as: Impression.self, context: context)
            let postID = try Validate.id(body.postID, field: "post_id")
            let userID = try Validate.id(body.userID, field: "user_id")
            guard let delta = ["UP": 1, "DOWN": -1][body.impressionType] else {
                throw ProblemDetails.invalidField("impression_type", "must be \"UP\" or \"DOWN\"")
            }
            guard try await posts.exists(postID) else {
                throw ProblemDetails.invalidField("post_id", "no post \(postID)")
            }
            try await profiles.verifyUser(userID, field: "user_id")
            let recorded = try await store.record(postID: postID, userID: userID, impressionType: body.impressionType, delta: delta)
            return try Response.json(recorded, status: .created)
        }

        router.get("/get_trending_user_info") { _, _ in
            let top = try await store.topPosts(Self.topCount)
            var authors: [Int64] = []
            for ranked in top where !authors.contains(ranked.post.userID) { authors.append(ranked.post.userID) }
            let lookups = await profiles.profiles(authors)
            let fromCache = lookups.values.contains { $0.source == .cache }
            let users = authors.map { AuthorProfile(userID: $0, profile: lookups[$0]?.profile) }
            return try Response.json(
                Trending(trendingUsers: users, profileSource: fromCache ? .cache : .live),
                headers: fromCache ? [.fallback: "cache"] : [:]
            )
        }
    }

    static let document = OpenAPIDocument(
        title: "FeedService",
        paths: [
            "/fetch_feed": [
                "get": [
                    "summary": "The top 10 posts by score",
                    "responses": [
                        "200": OpenAPIDocument.json(
                            "The feed",
                            [
                                "type": "object", "required": ["top_posts"],
                                "properties": ["top_posts": ["type": "array", "maxItems": 10, "items": ["$ref": "#/components/schemas/RankedPost"]]],
                            ]
                        ),
                        "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                    ],
                ]
            ],
            "/submit_impression": [
                "post": [
                    "summary": "Record an impression; the post's score moves by ±1 in the same transaction",
                    "requestBody": [
                        "required": true,
                        "content": [
                            "application/json": [
                                "schema": [
                                    "type": "object", "required": ["post_id", "user_id", "impression_type"],
                                    "properties": [
                                        "post_id": ["type": "integer", "minimum": 1],
                                        "user_id": ["type": "integer", "minimum": 1],
                                        "impression_type": ["type": "string", "enum": ["UP", "DOWN"]],
                                    ],
                                ]
                            ]
                        ],
                    ],
                    "responses": [
                        "201": OpenAPIDocument.json(
                            "Recorded, with the new score",
                            [
                                "type": "object",
                                "properties": [
                                    "impression_id": ["type": "integer"], "post_id": ["type": "integer"], "user_id": ["type": "integer"],
                                    "impression_type": ["type": "string"], "score": ["type": "integer"],
                                ],
                            ]
                        ),
                        "400": OpenAPIDocument.problem("Not JSON"),
                        "413": OpenAPIDocument.problem("Body too large"),
                        "422": OpenAPIDocument.problem("A field is missing or wrong; or no such post or user"),
                        "503": OpenAPIDocument.problem("The user cannot be verified, or PostgreSQL unavailable"),
                    ],
                ]
            ],
            "/get_trending_user_info": [
                "get": [
                    "summary": "The authors of the top 10 posts",
                    "responses": [
                        "200": OpenAPIDocument.json(
                            "Trending users; `X-Fallback: cache` when any came from the cache",
                            [
                                "type": "object", "required": ["trending_users"],
                                "properties": [
                                    "trending_users": [
                                        "type": "array",
                                        "items": [
                                            "type": "object",
                                            "properties": [
                                                "user_id": ["type": "integer"], "user_name": ["type": ["string", "null"]],
                                                "created_at": ["type": ["string", "null"]],
                                            ],
                                        ],
                                    ],
                                    "profile_source": ["type": "string", "enum": ["live", "cache"]],
                                ],
                            ]
                        ),
                        "503": OpenAPIDocument.problem("PostgreSQL unavailable"),
                    ],
                ]
            ],
        ],
        schemas: [
            "RankedPost": [
                "type": "object", "required": ["post_id", "user_id", "title", "content", "score"],
                "properties": [
                    "post_id": ["type": "integer"], "user_id": ["type": "integer"], "title": ["type": "string"],
                    "content": ["type": "string"], "created_at": ["type": "string", "format": "date-time"], "score": ["type": "integer"],
                ],
            ]
        ]
    )
}
