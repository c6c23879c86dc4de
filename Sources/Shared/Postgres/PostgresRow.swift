import Foundation

/// One row. Values are kept as the server's text (in its result's one buffer) so decoding is
/// lazy and per column.
public struct PostgresRow: Sendable {
    let values: PostgresValues
    let row: Int

    /// The value of `column` decoded as `T`; throws when it is NULL or not a `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError.decoding("column \(column) is NULL")
        }
        return value
    }

    /// The value of `column` decoded as `T`, or nil for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = values.columnIndex[column] else { throw PostgresError.decoding("no column \(column)") }
        guard let bytes = values.value(row: row, column: index) else { return nil }
        guard let value = T(postgresText: bytes, type: values.types[index]) else {
            throw PostgresError.decoding("column \(column) is not \(T.self)")
        }
        return value
    }
}

extension String: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) { self = String(decoding: bytes, as: UTF8.self) }
}

extension Int: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) { self.init(String(decoding: bytes, as: UTF8.self)) }
}

extension Int64: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) { self.init(String(decoding: bytes, as: UTF8.self)) }
}

extension Double: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) {
        switch String(decoding: bytes, as: UTF8.self) {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        case let text: self.init(text)
        }
    }
}

extension Bool: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) {
        switch bytes {
        case [0x74]: self = true
        case [0x66]: self = false
        default: return nil
        }
    }
}

extension Date: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) {
        guard let date = PostgresTimestamp.parse(String(decoding: bytes, as: UTF8.self)) else { return nil }
        self = date
    }
}

extension UUID: PostgresDecodable {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) { self.init(uuidString: String(decoding: bytes, as: UTF8.self)) }
}

/// `bytea` in text format is `\x` followed by hex digits.
extension Array: PostgresDecodable where Element == UInt8 {
    public init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32) {
        let start = bytes.startIndex
        guard bytes.count >= 2, bytes[start] == UInt8(ascii: "\\"), bytes[start + 1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity((bytes.count - 2) / 2)
        var index = start + 2
        while index < bytes.endIndex {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        self = result
    }
}
