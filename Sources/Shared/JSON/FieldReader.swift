import Foundation

/// Reads one JSON object of a request, field by field, turning every mistake into a
/// ``JSONFieldError`` that names the field by its full path (`rules[2].conditions[0].operator`).
public struct FieldReader {
    private let object: [String: JSONValue]
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws {
        guard case .object(let object) = value else {
            if path.isEmpty { throw JSONFieldError(field: nil, "request body must be a JSON object") }
            throw JSONFieldError(field: path, "must be an object")
        }
        if path.isEmpty, let found = Self.pathOfNUL(in: value, at: "") {
            throw JSONFieldError(field: found, "must not contain NUL (U+0000) characters")
        }
        self.object = object
        self.path = path
    }

    /// Definitions are kept in PostgreSQL `jsonb`, which cannot hold U+0000 in any string,
    /// member names included; checked once over the whole document, so a free-form variant
    /// value is covered as well as the fields read one by one.
    private static func pathOfNUL(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let string):
            return string.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = pathOfNUL(in: item, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? name : path + "." + name
                if name.utf8.contains(0) { return memberPath }
                if let found = pathOfNUL(in: member, at: memberPath) { return found }
            }
            return nil
        case .null, .bool, .number, .integer:
            return nil
        }
    }

    public func field(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    public func invalid(_ name: String, _ detail: String) -> JSONFieldError {
        JSONFieldError(field: field(name), detail)
    }

    /// Rejects members outside `known` (typos must not pass silently); `ignored` ones are
    /// accepted and dropped, e.g. the read-only fields of a definition sent back as read.
    public func rejectUnknown(_ known: Set<String>, ignoring ignored: Set<String> = []) throws {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) && !ignored.contains($0) }) {
            throw invalid(unknown, "is not a known field")
        }
    }

    /// A present, non-null value.
    public func value(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    public func string(_ name: String) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let string) = value else { throw invalid(name, "must be a string") }
        return string
    }

    public func requiredString(_ name: String) throws -> String {
        guard let string = try string(name) else { throw invalid(name, "is required") }
        return string
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let bool) = value else { throw invalid(name, "must be a boolean") }
        return bool
    }

    /// A finite number (NaN and infinities, which some JSON writers emit, are refused here).
    public func number(_ name: String) throws -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.double else { throw invalid(name, "must be a number") }
        guard number.isFinite else { throw invalid(name, "must be a finite number") }
        return number
    }

    public func percentage(_ name: String) throws -> Double? {
        guard let number = try number(name) else { return nil }
        guard (0...100).contains(number) else { throw invalid(name, "must be between 0 and 100") }
        return number
    }

    public func array(_ name: String, maximum: Int) throws -> [JSONValue] {
        guard let value = value(name) else { return [] }
        guard case .array(let items) = value else { throw invalid(name, "must be an array") }
        guard items.count <= maximum else { throw invalid(name, "must have at most \(maximum) items") }
        return items
    }

    public func timestamp(_ name: String) throws -> Date? {
        guard let text = try string(name) else { return nil }
        guard let date = Timestamp.parse(text) else { throw invalid(name, "must be an RFC 3339 timestamp") }
        return date
    }

    /// `[A-Za-z0-9_.:-]{1,maximum}`: the names of flags, variants and segments.
    public func name(_ name: String, maximum: Int = 128) throws -> String {
        let value = try requiredString(name)
        try Self.checkName(value, maximum: maximum) { invalid(name, $0) }
        return value
    }

    public static func checkName(_ value: String, maximum: Int = 128, error: (String) -> JSONFieldError) throws {
        guard !value.isEmpty else { throw error("must not be empty") }
        guard value.utf8.count <= maximum else { throw error("must be at most \(maximum) characters") }
        guard value.utf8.allSatisfy(isNameByte) else { throw error("may only contain A-Z a-z 0-9 _ . : -") }
    }

    public static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2E, 0x3A, 0x2D: true
        default: false
        }
    }
}
