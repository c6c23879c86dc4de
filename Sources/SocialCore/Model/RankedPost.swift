/// A post with its score, flat as the older service answered it.
struct RankedPost: Encodable, Sendable {
    var post: PostRecord
    var score: Int64
    enum CodingKeys: String, CodingKey { case score }

    func encode(to encoder: any Encoder) throws {
        try post.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(score, forKey: .score)
    }
}
