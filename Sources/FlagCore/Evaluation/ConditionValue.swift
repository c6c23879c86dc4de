import Foundation
import Shared

/// How condition operands and context attributes are read, the same way on both sides.
enum ConditionValue {
    /// Scalars as text for the string operators: numbers in their shortest form
    /// (`5`, not `5.0`), so `5` in a rule matches `"5"` from a query string.
    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let string): string
        case .number(let number): number.integralOrShortestText
        case .integer(let integer): String(integer)
        case .bool(let bool): bool ? "true" : "false"
        default: nil
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number, .integer: value.double
        case .string(let string): Double(string).flatMap { $0.isFinite ? $0 : nil }
        default: nil
        }
    }

    /// Seconds since 1970: an RFC 3339 string or a number of epoch seconds.
    static func date(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): number.isFinite ? number : nil
        case .integer(let integer): Double(integer)
        case .string(let string): Timestamp.parse(string)?.timeIntervalSince1970 ?? Double(string)
        default: nil
        }
    }

    static func semver(_ value: JSONValue) -> SemanticVersion? {
        if case .string(let string) = value { return SemanticVersion(string) }
        return nil
    }
}
