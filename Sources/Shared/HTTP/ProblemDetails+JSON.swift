extension ProblemDetails {
    /// 400: a request body that is not JSON.
    public init(_ error: JSONSyntaxError) {
        self = .malformed("request body is not valid JSON: \(error)")
    }

    /// 422 naming the field, or 400 when the document as a whole is the wrong shape.
    public init(_ error: JSONFieldError) {
        self = error.field.map { .invalidField($0, error.reason) } ?? .malformed(error.reason)
    }
}
