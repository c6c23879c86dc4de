/// A typed RESP reply.
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case error(String)

    /// The reply as UTF-8 text, for bulk strings, status replies and integers.
    public var string: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        if case .string(let bytes) = self { return bytes }
        return nil
    }

    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .string, .status: string.flatMap { Int($0) }
        default: nil
        }
    }

    /// A flat array of names and values (`XINFO STREAM`, `HGETALL` in RESP2) by name.
    public var pairs: [String: RedisReply] {
        let items = array ?? []
        var result: [String: RedisReply] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let name = items[index].string { result[name] = items[index + 1] }
        }
        return result
    }

    public var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
