import Foundation
import NIOCore

/// Any JSON value, for documents whose shape is data (OpenAPI, problem extensions, flag
/// variant values).
///
/// Numbers are exact: `number` holds every number a `Double` holds exactly (all integers up
/// to ±2^53 among them), `integer` the 64-bit integers a `Double` would round (a 64-bit id
/// passes through unchanged, in any spelling: `9007199254740993`, `90071992547409.93e2`).
/// ``exactly(_:)`` picks the case, so each value has one representation and `==` compares
/// values; whole numbers are written as their digits, so they read back the same. Read
/// numbers through ``double``, which takes both.
public enum JSONValue: Codable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    case null
    case bool(Bool)
    case number(Double)
    /// An integer a `Double` cannot hold exactly (beyond ±2^53); others are `number`.
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .exactly(Int64(value)) }

    /// `value` as `number` when a `Double` holds it exactly, else as `integer`.
    public static func exactly(_ value: Int64) -> JSONValue {
        Double(exactly: value).map(JSONValue.number) ?? .integer(value)
    }

    /// The number as a `Double` (an `integer` rounded to the nearest one); nil when this is
    /// not a number.
    public var double: Double? {
        switch self {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .exactly(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if let integer = value.integralValue { try container.encode(integer) } else { try container.encode(value) }
        case .integer(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Strict JSON, plus bare `NaN`/`Infinity`/`-Infinity` (read as non-finite numbers);
    /// anything else is a ``JSONSyntaxError`` saying where it went wrong.
    public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
        // `withUnsafeBytes` rethrows untyped: the result carries the typed error out.
        try data.withUnsafeBytes { bytes in Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) } }.get()
    }

    public static func parse(_ buffer: ByteBuffer) throws(JSONSyntaxError) -> JSONValue {
        try buffer.withUnsafeReadableBytes { bytes in Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) } }.get()
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}
