import Hummingbird

extension Request {
    /// A query parameter that must be present and non-empty (422 naming it otherwise).
    public func requiredQuery(_ name: String) throws -> String {
        guard let value = uri.queryParameters[Substring(name)].map(String.init), !value.isEmpty else {
            throw ProblemDetails.invalidField(name, "query parameter is required")
        }
        return value
    }

    /// A positive integer id from the query string (`user_id`, `post_id`): 422 naming it when
    /// missing or not a positive integer.
    public func idQuery(_ name: String) throws -> Int64 {
        let text = try requiredQuery(name)
        guard let id = Int64(text), id > 0 else {
            throw ProblemDetails.invalidField(name, "must be a positive integer")
        }
        return id
    }
}
