import Foundation
import Shared

/// Checks on decoded request fields, each failing as a 422 that names the field.
enum Validate {
    /// Trimmed, non-empty, at most `maximum` characters and at most 4 × `maximum` bytes of
    /// UTF-8: a "character" is a grapheme cluster, and one may hold any number of combining
    /// scalars, so a count of characters alone would let a megabyte through as one.
    static func text(_ value: String, field: String, maximum: Int, allowEmpty: Bool = false) throws -> String {
        if value.utf8.count > maximum * 4 + 4096 { throw ProblemDetails.invalidField(field, "must be at most \(maximum * 4) bytes") }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty && !allowEmpty { throw ProblemDetails.invalidField(field, "must not be empty") }
        if trimmed.utf8.count > maximum * 4 { throw ProblemDetails.invalidField(field, "must be at most \(maximum * 4) bytes") }
        if trimmed.count > maximum { throw ProblemDetails.invalidField(field, "must be at most \(maximum) characters") }
        if trimmed.unicodeScalars.contains("\u{0}") { throw ProblemDetails.invalidField(field, "must not contain NUL") }
        return trimmed
    }

    static func id(_ value: Int64, field: String) throws -> Int64 {
        guard value > 0 else { throw ProblemDetails.invalidField(field, "must be a positive integer") }
        return value
    }
}
