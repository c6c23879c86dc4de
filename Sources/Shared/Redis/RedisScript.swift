import Crypto

/// A Lua script run by `EVALSHA`, loaded again on `NOSCRIPT` (after a restart or
/// `SCRIPT FLUSH`), so the script text crosses the wire once per server, not once per call.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = hex(Insecure.SHA1.hash(data: Array(source.utf8)))
    }

    /// The `EVALSHA` calling this script with `keys` and `arguments`.
    public func call(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        RedisCommand(["EVALSHA", sha1, keys.count] + keys + arguments)
    }
}

extension RedisClient {
    /// Runs `script` with `keys` and `arguments`; reloads it once on `NOSCRIPT`.
    public func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) async throws -> RedisReply {
        try await run(script.call(keys: keys, arguments: arguments), of: script)
    }

    /// Sends `evalsha`, an `EVALSHA` of `script` the caller built; reloads the script once
    /// on `NOSCRIPT`.
    public func run(_ evalsha: RedisCommand, of script: RedisScript) async throws -> RedisReply {
        do {
            return try await send(evalsha)
        } catch let error as RedisError where error.code == "NOSCRIPT" {
            logger.debug("script reload", metadata: ["redis.script": "\(script.sha1)"])
            return try Self.checked(try await pipeline([evalsha], loading: script)[0])
        }
    }

    /// `commands` (calls of `script`) in one pipeline behind a `SCRIPT LOAD` of it, so no other
    /// client's `SCRIPT FLUSH` can fall in between; the commands' replies, the load's left out.
    /// On a cluster, every node's share of the pipeline loads the script first.
    public func pipeline(_ commands: [RedisCommand], loading script: RedisScript) async throws -> [RedisReply] {
        try await pipeline(commands, prelude: RedisCommand("SCRIPT", "LOAD", script.source))
    }
}
