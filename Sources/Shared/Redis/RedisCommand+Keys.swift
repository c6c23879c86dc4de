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

    /// Where a command's keys are.
    private enum KeySpec {
        case keyless, first, all, pairs, firstTwo, numkeys, streams, second
    }

    /// The commands this suite sends and their common relatives, by name; the rest have their
    /// key first (GET, SET, the hash, list, set, sorted-set and stream commands, SPUBLISH).
    /// A dictionary, since a `switch` over strings compares them one by one on every call.
    private static let keySpecs: [String: KeySpec] = {
        var specs: [String: KeySpec] = [:]
        for name in [
            "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "PFCOUNT", "SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE",
            "SDIFFSTORE", "PFMERGE",
        ] { specs[name] = .all }
        for name in ["MSET", "MSETNX"] { specs[name] = .pairs }
        for name in ["RENAME", "RENAMENX", "COPY", "SMOVE", "LMOVE", "RPOPLPUSH", "BLMOVE", "BRPOPLPUSH"] { specs[name] = .firstTwo }
        for name in ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"] { specs[name] = .numkeys }
        for name in ["XREAD", "XREADGROUP"] { specs[name] = .streams }
        for name in ["XGROUP", "XINFO", "OBJECT", "MEMORY"] { specs[name] = .second }
        for name in [
            "PING", "ECHO", "INFO", "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "CLUSTER", "SCRIPT", "FLUSHALL", "FLUSHDB", "DBSIZE", "TIME",
            "CONFIG", "WAIT", "CLIENT", "COMMAND", "AUTH", "SELECT", "HELLO", "ASKING", "READONLY", "MULTI", "EXEC", "DISCARD", "KEYS",
            "SCAN", "RANDOMKEY", "FUNCTION", "ACL", "DEBUG", "LATENCY", "SLOWLOG",
        ] { specs[name] = .keyless }
        return specs
    }()

    /// The command word in upper case, ASCII only (command names are ASCII).
    private var upperName: String {
        let bytes = argument(0)
        // Written in place: a name of up to 15 bytes stays inline, with no allocation.
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (offset, byte) in bytes.enumerated() { buffer[offset] = byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte }
            return bytes.count
        }
    }

    /// The indices of the command's keys, from a table of the commands this suite sends and
    /// their common relatives; a command the table does not know has its key first. A command
    /// the table gets wrong is still answered right: the node it reaches answers `MOVED` and
    /// the call goes on to the right one, so a gap in the table costs a redirect, never a
    /// wrong answer.
    var keyIndices: [Int] {
        guard count > 1 else { return [] }
        switch Self.keySpecs[upperName] ?? .first {
        case .keyless: return []
        case .first: return [1]
        case .all: return Array(1..<count)
        case .pairs: return Array(stride(from: 1, to: count, by: 2))
        case .firstTwo: return count > 2 ? [1, 2] : [1]
        case .second: return count > 2 ? [2] : []
        case .numkeys:
            guard count > 2, let keys = Int(String(decoding: argument(2), as: UTF8.self)), keys > 0 else { return [] }
            return Array(3..<min(count, 3 + keys))
        case .streams:
            guard let streams = (1..<count).first(where: { argument($0).uppercased == "STREAMS" }) else { return [] }
            let rest = count - streams - 1
            return Array((streams + 1)..<(streams + 1 + rest / 2))
        }
    }

    /// The node the command belongs on, or ``RedisCrossSlotError`` naming its keys when they
    /// span slots (a cluster refuses such a call; refusing it here says which keys).
    func route() throws -> Route {
        // The common case, one key first (GET, SET, HGET…), without building the index list.
        if count > 1, Self.keySpecs[upperName] == nil { return .slot(RedisKeySlot.slot(of: argument(1))) }
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
