/// What a write announces on `stream.filters`: which filter changed and its new version,
/// never the filter itself, so whoever can publish on Redis cannot change a filter.
struct FilterChangeNotice: Codable, Sendable {
    var subscriberID: String
    var version: Int64

    enum CodingKeys: String, CodingKey {
        case subscriberID = "subscriber_id"
        case version
    }
}
