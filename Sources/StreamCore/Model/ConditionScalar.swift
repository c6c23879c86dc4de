import Shared

/// A value a condition compares with: a string, a finite number or a boolean.
enum ConditionScalar: Hashable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)

    init(_ json: JSONValue, error: (String) -> JSONFieldError) throws {
        switch json {
        case .string(let text):
            guard text.utf8.count <= 1024 else { throw error("must be at most 1024 bytes") }
            self = .string(text)
        case .bool(let flag): self = .bool(flag)
        case .number, .integer:
            guard let number = json.double, number.isFinite else { throw error("must be a finite number") }
            self = .number(number)
        default: throw error("must be a string, a number or a boolean")
        }
    }

    /// An event's value as a scalar; nil for null, arrays and objects, which only `exists` sees.
    init?(event json: JSONValue) {
        switch json {
        case .string(let text): self = .string(text)
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(number)
        case .integer(let number): self = .number(Double(number))
        default: return nil
        }
    }

    var json: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .number(let number): .number(number)
        case .bool(let flag): .bool(flag)
        }
    }
}
