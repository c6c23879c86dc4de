/// Something that can be one argument of a Redis command: every argument is sent as its own
/// binary-safe argv entry, so no value is ever spliced into command text.
public protocol RedisArgument: Sendable {
    func appendRedisArgument(to bytes: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: self) }
}

extension Int: RedisArgument {
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: "\(self)".utf8) }
}
