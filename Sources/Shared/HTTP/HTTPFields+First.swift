import HTTPTypes

extension HTTPFields {
    /// The first value of `name`. The subscript joins every value of a repeated field with
    /// ", ", which costs an allocation per lookup on hot paths and is wrong for single-valued
    /// fields such as `Content-Length` or `Idempotency-Key`.
    public func first(_ name: HTTPField.Name) -> String? {
        first { $0.name == name }?.value
    }
}
