extension RedisCommand {
    /// Where a command goes in a cluster.
    enum Route: Equatable {
        /// No keys (`PING`, `PUBLISH`, `SCRIPT LOAD`): any master will do.
        case anyNode
        case slot(Int)
    }

    /// How many arguments the command has, its name included.
    var count: Int { ends.count }

    /// The bytes of argument `index` (0 is the command word).
    func argument(_ index: Int) -> ArraySlice<UInt8> {
        storage[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// The indices of the command's keys, from a table of the commands this suite sends and
    /// their common relatives. A command the table does not know is treated as keyless: it goes
    /// to any master, and a `MOVED` reply sends it on to the right one, so a gap in the table
    /// costs a redirect, never a wrong answer.
    var keyIndices: [Int] {
        guard count > 1 else { return [] }
        let name = String(decoding: argument(0), as: UTF8.self).uppercased()
        switch name {
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "PFCOUNT", "SINTER", "SUNION", "SDIFF",
            "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "PFMERGE":
            return Array(1..<count)
        case "MSET", "MSETNX":
            return Array(stride(from: 1, to: count, by: 2))
        case "RENAME", "RENAMENX", "COPY", "SMOVE", "LMOVE", "RPOPLPUSH", "BLMOVE", "BRPOPLPUSH":
            return count > 2 ? [1, 2] : [1]
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard count > 2, let keys = Int(String(decoding: argument(2), as: UTF8.self)), keys > 0 else { return [] }
            return Array(3..<min(count, 3 + keys))
        case "XREAD", "XREADGROUP":
            guard let streams = (1..<count).first(where: { argument($0).uppercased == "STREAMS" }) else { return [] }
            let rest = count - streams - 1
            return Array((streams + 1)..<(streams + 1 + rest / 2))
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            return count > 2 ? [2] : []
        case "PING", "ECHO", "INFO", "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "CLUSTER", "SCRIPT", "FLUSHALL", "FLUSHDB",
            "DBSIZE", "TIME", "CONFIG", "WAIT", "CLIENT", "COMMAND", "AUTH", "SELECT", "HELLO", "ASKING", "READONLY",
            "MULTI", "EXEC", "DISCARD", "KEYS", "SCAN", "RANDOMKEY", "FUNCTION", "ACL", "DEBUG", "LATENCY", "SLOWLOG":
            return []
        default:
            // GET, SET, the hash, list, set, sorted-set and stream commands, SPUBLISH: the key
            // (or shard channel) comes first.
            return [1]
        }
    }

    /// The node the command belongs on, or ``RedisCrossSlotError`` naming its keys when they
    /// span slots (a cluster refuses such a call; refusing it here says which keys).
    func route() throws -> Route {
        let indices = keyIndices
        guard let first = indices.first else { return .anyNode }
        let slot = RedisKeySlot.slot(of: argument(first))
        for index in indices.dropFirst() where RedisKeySlot.slot(of: argument(index)) != slot {
            throw RedisCrossSlotError(command: name, keys: indices.map { String(decoding: argument($0), as: UTF8.self) })
        }
        return .slot(slot)
    }
}

extension ArraySlice<UInt8> {
    fileprivate var uppercased: String { String(decoding: self, as: UTF8.self).uppercased() }
}
