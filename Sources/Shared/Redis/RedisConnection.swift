import CHiredis
import Foundation

/// One blocking hiredis connection. Only ever used by one thread at a time, under a pool lease.
public final class RedisConnection: BlockingConnection, @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>
    public private(set) var isBroken = false

    /// Connects, sets the per-call socket timeouts, authenticates and selects the database.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration) throws {
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeval(connectTimeout)) else {
            throw DependencyUnavailableError(dependency: "redis", reason: "out of memory")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorString(context)
            redisFree(context)
            throw DependencyUnavailableError(dependency: "redis", reason: reason)
        }
        self.context = context
        redisSetTimeout(context, timeval(commandTimeout))
        redisEnableKeepAlive(context)
        do {
            if let password = endpoint.password {
                let auth = endpoint.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
                if case .error(let message) = try execute(auth) { throw RedisError(message: message) }
            }
            if endpoint.database != 0 {
                if case .error(let message) = try execute(RedisCommand("SELECT", endpoint.database)) {
                    throw RedisError(message: message)
                }
            }
        } catch {
            redisFree(context)
            throw error
        }
    }

    public func close() {
        redisFree(context)
    }

    /// Redis sends nothing unasked outside pub/sub, so a readable idle socket means EOF.
    public func isAlive() -> Bool {
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Sends one command and reads its reply. An error reply is returned, not thrown.
    public func execute(_ command: RedisCommand) throws -> RedisReply {
        try append(command)
        return try readReply()
    }

    /// Sends all commands in one write and reads their replies in order.
    public func pipeline(_ commands: [RedisCommand]) throws -> [RedisReply] {
        for command in commands { try append(command) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// The socket, for callers that wait on it with `poll` (the subscriber).
    var fileDescriptor: Int32 { context.pointee.fd }

    /// Queues a command in hiredis' output buffer without writing it.
    func append(_ command: RedisCommand) throws {
        let status = command.storage.withUnsafeBufferPointer { storage -> Int32 in
            let base = UnsafeRawPointer(storage.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            var pointers: [UnsafePointer<CChar>?] = []
            var lengths: [Int] = []
            pointers.reserveCapacity(command.ends.count)
            lengths.reserveCapacity(command.ends.count)
            var start = 0
            for end in command.ends {
                pointers.append((base + start).assumingMemoryBound(to: CChar.self))
                lengths.append(end - start)
                start = end
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                redisAppendCommandArgv(context, Int32(argv.count), argv.baseAddress, lengths)
            }
        }
        if status != REDIS_OK { throw connectionFailure() }
    }

    /// Writes what is queued, then blocks (up to the command timeout) for one reply.
    func readReply() throws -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw connectionFailure() }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Writes everything queued, blocking until done.
    func flush() throws {
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { throw connectionFailure() }
        }
    }

    /// Reads what the socket has (call after `poll` said it is readable) and returns every
    /// complete reply now buffered.
    func readAvailable() throws -> [RedisReply] {
        if redisBufferRead(context) != REDIS_OK { throw connectionFailure() }
        var replies: [RedisReply] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            if redisGetReplyFromReader(context, &raw) != REDIS_OK { throw connectionFailure() }
            guard let raw else { return replies }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }

    private func connectionFailure() -> DependencyUnavailableError {
        isBroken = true
        return DependencyUnavailableError(dependency: "redis", reason: Self.errorString(context))
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let message = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        if context.pointee.err == REDIS_ERR_IO, message.contains("Resource temporarily unavailable") {
            return "timed out"
        }
        return message.isEmpty ? "connection error \(context.pointee.err)" : message
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .string(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}

private func timeval(_ duration: Duration) -> timeval {
    let micros = Int(duration.seconds * 1_000_000)
    return Glibc.timeval(tv_sec: micros / 1_000_000, tv_usec: micros % 1_000_000)
}
