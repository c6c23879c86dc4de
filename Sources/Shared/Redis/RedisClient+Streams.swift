/// One entry of a Redis stream.
public struct RedisStreamEntry: Sendable, Equatable {
    public let stream: String
    public let id: String
    public let fields: [String: [UInt8]]

    public func string(_ field: String) -> String? {
        fields[field].map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One pending entry of a consumer group (`XPENDING … IDLE`).
public struct RedisPendingEntry: Sendable, Equatable {
    public let id: String
    public let consumer: String
    public let idle: Duration
    public let deliveries: Int
}

extension RedisClient {
    /// `XADD stream MAXLEN ~ n * field value …`; returns the new entry's id.
    @discardableResult
    public func xadd(_ stream: String, maxLength: Int? = nil, id: String = "*", fields: [(String, any RedisArgument)]) async throws -> String {
        var arguments: [any RedisArgument] = ["XADD", stream]
        if let maxLength { arguments += ["MAXLEN", "~", maxLength] }
        arguments.append(id)
        for (name, value) in fields { arguments += [name, value] }
        guard let entryID = try await send(RedisCommand(arguments)).string else {
            throw RedisError(message: "XADD returned no id")
        }
        return entryID
    }

    /// Creates a consumer group (and the stream); an existing group is fine.
    public func xgroupCreate(_ stream: String, group: String, startID: String = "0") async throws {
        do {
            try await send("XGROUP", "CREATE", stream, group, startID, "MKSTREAM")
        } catch let error as RedisError where error.code == "BUSYGROUP" {
            return
        }
    }

    /// `XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS s… id…`. `block` is capped below the
    /// command timeout so a quiet stream never looks like a dead server. On a cluster,
    /// streams in several slots are read as ``xread(streams:count:block:)`` does.
    public func xreadgroup(
        group: String,
        consumer: String,
        streams: [(String, String)],
        count: Int,
        block: Duration? = nil
    ) async throws -> [RedisStreamEntry] {
        try await read(["XREADGROUP", "GROUP", group, consumer, "COUNT", count], streams: streams, block: block)
    }

    /// `XREAD COUNT n [BLOCK ms] STREAMS s… id…`, for readers outside a group.
    ///
    /// On a cluster, streams in different slots cannot share one `XREAD`: each slot's streams
    /// are read in one pipeline (split by node, sent concurrently), without `BLOCK`, since a
    /// blocking read holds its node's connection and one node's wait would hold up the others.
    /// When nothing came, it waits up to `clusterPoll` (25 ms) of the `block` instead, so an idle
    /// reader polls rather than spins. Callers already loop on an empty answer.
    public func xread(streams: [(String, String)], count: Int, block: Duration? = nil) async throws -> [RedisStreamEntry] {
        try await read(["XREAD", "COUNT", count], streams: streams, block: block)
    }

    private func read(_ head: [any RedisArgument], streams: [(String, String)], block: Duration?) async throws -> [RedisStreamEntry] {
        let bySlot = cluster == nil ? [:] : Dictionary(grouping: streams) { RedisKeySlot.slot(of: $0.0) }
        if bySlot.count > 1 {
            let reads = bySlot.values.map { group in RedisCommand(head + ["STREAMS"] + group.map(\.0) + group.map(\.1)) }
            let entries = try await pipeline(reads).flatMap { Self.streamEntries(try Self.checked($0)) }
            if entries.isEmpty, let block { try await Task.sleep(for: min(block, Self.clusterPoll)) }
            return entries
        }
        var arguments = head
        if let block {
            arguments += ["BLOCK", Int(min(block.seconds, configuration.commandTimeout.seconds / 2) * 1000)]
        }
        arguments.append("STREAMS")
        arguments += streams.map(\.0)
        arguments += streams.map(\.1)
        return Self.streamEntries(try await send(RedisCommand(arguments)))
    }

    /// `XRANGE stream (after + COUNT n`: up to `count` entries after `after`, oldest first.
    public func xrange(_ stream: String, after: String, count: Int) async throws -> [RedisStreamEntry] {
        let reply = try await send("XRANGE", stream, "(" + after, "+", "COUNT", count)
        return (reply.array ?? []).compactMap { Self.entry(stream: stream, $0) }
    }

    @discardableResult
    public func xack(_ stream: String, group: String, ids: [String]) async throws -> Int {
        if ids.isEmpty { return 0 }
        return try await send(RedisCommand(["XACK", stream, group] + ids)).int ?? 0
    }

    /// `XAUTOCLAIM`: takes over entries idle longer than `minIdle`. Returns the cursor for the
    /// next call ("0-0" when done) and the claimed entries.
    public func xautoclaim(
        _ stream: String,
        group: String,
        consumer: String,
        minIdle: Duration,
        start: String = "0-0",
        count: Int = 100
    ) async throws -> (next: String, entries: [RedisStreamEntry]) {
        let reply = try await send(
            "XAUTOCLAIM",
            stream,
            group,
            consumer,
            Int(minIdle.millisecondsRoundedUp),
            start,
            "COUNT",
            count
        )
        guard let parts = reply.array, parts.count >= 2 else { return ("0-0", []) }
        let entries = (parts[1].array ?? []).compactMap { Self.entry(stream: stream, $0) }
        return (parts[0].string ?? "0-0", entries)
    }

    /// `XPENDING stream group - + count`: pending entries with their delivery counts.
    public func xpending(_ stream: String, group: String, count: Int = 100, minIdle: Duration? = nil) async throws -> [RedisPendingEntry] {
        var arguments: [any RedisArgument] = ["XPENDING", stream, group]
        if let minIdle { arguments += ["IDLE", Int(minIdle.millisecondsRoundedUp)] }
        arguments += ["-", "+", count]
        let reply = try await send(RedisCommand(arguments))
        return (reply.array ?? []).compactMap { item in
            guard let fields = item.array, fields.count >= 4,
                let id = fields[0].string, let consumer = fields[1].string,
                let idle = fields[2].int, let deliveries = fields[3].int
            else { return nil }
            return RedisPendingEntry(id: id, consumer: consumer, idle: .milliseconds(idle), deliveries: deliveries)
        }
    }

    /// How long an empty cluster read over several slots waits.
    static let clusterPoll = Duration.milliseconds(25)

    /// Parses `[[stream, [[id, [f, v, …]], …]], …]`.
    static func streamEntries(_ reply: RedisReply) -> [RedisStreamEntry] {
        guard let streams = reply.array else { return [] }
        var result: [RedisStreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string else { continue }
            result += (pair[1].array ?? []).compactMap { entry(stream: name, $0) }
        }
        return result
    }

    static func entry(stream: String, _ reply: RedisReply) -> RedisStreamEntry? {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string else { return nil }
        // A claimed entry that was deleted meanwhile has a nil field list.
        let flat = pair[1].array ?? []
        var fields: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { fields[name] = flat[index + 1].bytes ?? [] }
            index += 2
        }
        return RedisStreamEntry(stream: stream, id: id, fields: fields)
    }
}
