/// One command: its arguments packed in one buffer with their boundaries, ready for
/// `redisAppendCommandArgv`.
public struct RedisCommand: Sendable, CustomStringConvertible {
    var storage: [UInt8] = []
    var ends: [Int] = []

    public init(_ arguments: [any RedisArgument]) {
        storage.reserveCapacity(arguments.count * 16)
        for argument in arguments {
            argument.appendRedisArgument(to: &storage)
            ends.append(storage.count)
        }
    }

    public init(_ arguments: any RedisArgument...) {
        self.init(arguments)
    }

    /// An empty command to build with ``append(_:)``, for hot paths where an array of
    /// existentials would cost more than the command.
    public init(reservingCapacity bytes: Int, arguments: Int) {
        storage.reserveCapacity(bytes)
        ends.reserveCapacity(arguments)
    }

    public mutating func append(_ argument: some RedisArgument) {
        argument.appendRedisArgument(to: &storage)
        ends.append(storage.count)
    }

    /// The command word only: values stay out of logs.
    public var name: String {
        guard let end = ends.first else { return "" }
        return String(decoding: storage[0..<end], as: UTF8.self).uppercased()
    }

    public var description: String { name }
}
