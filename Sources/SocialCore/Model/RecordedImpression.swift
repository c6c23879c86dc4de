/// An impression as recorded, with its post's new score.
struct RecordedImpression: Encodable, Sendable {
    var impressionID: Int64
    var postID: Int64
    var userID: Int64
    var impressionType: String
    var score: Int64
    enum CodingKeys: String, CodingKey {
        case impressionID = "impression_id"
        case postID = "post_id"
        case userID = "user_id"
        case impressionType = "impression_type"
        case score
    }
}
