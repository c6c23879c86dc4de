/// Where the profile fields of an answer came from.
enum ProfileSource: String, Codable, Sendable {
    /// Asked ProfileService just now.
    case live
    /// ProfileService could not be asked; the last known copy (or nulls) from the cache.
    case cache
}
