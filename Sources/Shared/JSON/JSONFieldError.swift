/// A JSON document that is valid JSON but not what was asked for: `field` (a full path,
/// `rules[2].conditions[0].operator`) is missing, of the wrong type or out of range; nil when
/// the document as a whole is the wrong shape (not an object).
///
/// The HTTP kit answers it as a 422 naming the field (400 for the whole document).
public struct JSONFieldError: Error, CustomStringConvertible, Sendable, Equatable {
    public let field: String?
    public let reason: String

    public init(field: String?, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.map { "\($0): \(reason)" } ?? reason }
}
