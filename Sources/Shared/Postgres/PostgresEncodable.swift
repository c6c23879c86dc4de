import Foundation

/// A Swift value that can be a query parameter. Values always travel as parameters, never
/// inside SQL text.
public protocol PostgresEncodable: Sendable {
    /// The parameter, or nil for SQL NULL.
    func postgresBind() throws -> PostgresBind?
}

extension String: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? {
        // libpq sends text parameters as C strings, so a NUL would silently truncate the
        // value; PostgreSQL text cannot hold NUL anyway. Binary data belongs in bytea.
        if utf8.contains(0) { throw PostgresError.invalidParameter("text cannot contain NUL bytes; use bytea") }
        return PostgresBind(bytes: Array(utf8), isBinary: false)
    }
}

extension Substring: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { try String(self).postgresBind() }
}

extension Int: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: Array(String(self).utf8), isBinary: false) }
}

extension Int64: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: Array(String(self).utf8), isBinary: false) }
}

extension Int32: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: Array(String(self).utf8), isBinary: false) }
}

extension Double: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? {
        let text: String = if isNaN { "NaN" } else if isInfinite { self < 0 ? "-Infinity" : "Infinity" } else { "\(self)" }
        return PostgresBind(bytes: Array(text.utf8), isBinary: false)
    }
}

extension Bool: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: self ? [0x74] : [0x66], isBinary: false) }
}

/// `[UInt8]` is `bytea`, sent in binary so every byte (NUL included) arrives as is.
extension Array: PostgresEncodable where Element == UInt8 {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: self, isBinary: true) }
}

extension UUID: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? { PostgresBind(bytes: Array(uuidString.lowercased().utf8), isBinary: false) }
}

extension Date: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? {
        PostgresBind(bytes: Array(PostgresTimestamp.format(self).utf8), isBinary: false)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind? {
        switch self {
        case .none: nil
        case .some(let value): try value.postgresBind()
        }
    }
}
