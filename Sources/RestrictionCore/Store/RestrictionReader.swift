import Shared

/// What the query routes read: one user's access and restrictions, the rules' tripwire
/// state, the stream's progress.
public struct RestrictionReader: Sendable {
    let redis: RedisClient
    let applier: EventApplier

    public init(redis: RedisClient, applier: EventApplier) {
        self.redis = redis
        self.applier = applier
    }

    var keys: RestrictionKeys { applier.keys }

    /// One `HEXISTS`: a user never seen has every access.
    func has(_ access: String, user: String) async throws -> Bool {
        try await redis.send("HEXISTS", keys.partition(ofUser: user).user(user), "r:" + access).int != 1
    }

    struct Restriction: Sendable, Equatable {
        let access: String
        let rule: String
        /// Milliseconds since 1970.
        let at: Int64
        /// The stream id of the event that crossed the threshold.
        let event: String
    }

    struct UserState: Sendable {
        var restrictions: [Restriction] = []
        /// Rules that matched while tripped: (rule, at, event).
        var held: [Restriction] = []
        var metrics: [String: Double] = [:]
        var received = 0
        var applied = 0
    }

    func user(_ id: String) async throws -> UserState {
        let reply = try await redis.send("HGETALL", keys.partition(ofUser: id).user(id))
        var state = UserState()
        let flat = reply.array ?? []
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            guard let field = flat[index].string, let value = flat[index + 1].string else { continue }
            if field.hasPrefix("m:") {
                state.metrics[String(field.dropFirst(2))] = Double(value) ?? 0
            } else if field.hasPrefix("r:") || field.hasPrefix("h:") {
                let parts = value.split(separator: "|", maxSplits: 2).map(String.init)
                if field.hasPrefix("r:"), parts.count == 3 {
                    state.restrictions.append(
                        Restriction(access: String(field.dropFirst(2)), rule: parts[0], at: Int64(parts[1]) ?? 0, event: parts[2])
                    )
                } else if parts.count == 2 {
                    let rule = String(field.dropFirst(2))
                    let access = applier.rules.rules.first { $0.name == rule }?.clears ?? ""
                    state.held.append(Restriction(access: access, rule: rule, at: Int64(parts[0]) ?? 0, event: parts[1]))
                }
            } else if field == "seq" {
                state.received = Int(value) ?? 0
            } else if field == "applied" {
                state.applied = Int(value) ?? 0
            }
        }
        state.restrictions.sort { $0.access < $1.access }
        state.held.sort { $0.rule < $1.rule }
        return state
    }

    struct RuleState: Sendable {
        let rule: RuleDefinition
        let tripped: Bool
        let trippedAt: Int64?
        let windowUsers: Int
        let knownUsers: Int
        let restricted: Int
        let held: Int
        let trips: Int
    }

    /// Each rule's state combined over the partitions: tripped when any partition is (the
    /// others follow within a rearm round), counts summed.
    func rules(now: Int64) async throws -> [RuleState] {
        let windowStart = Int(now) - Int(applier.tripwire.window.seconds * 1000)
        var commands: [RedisCommand] = []
        for partition in keys.partitions {
            commands.append(RedisCommand("SCARD", partition.users))
            for rule in applier.rules.rules {
                commands.append(RedisCommand("HGETALL", partition.rule(rule.name)))
                commands.append(RedisCommand("ZCOUNT", partition.window(rule.name), "(\(windowStart)", "+inf"))
            }
        }
        var replies = try await redis.pipeline(commands).makeIterator()
        var known = 0
        var fields = Array(repeating: [[String: String]](), count: applier.rules.rules.count)
        var window = Array(repeating: 0, count: applier.rules.rules.count)
        for _ in keys.partitions {
            known += try RedisClient.checked(replies.next()!).int ?? 0
            for index in applier.rules.rules.indices {
                var hash: [String: String] = [:]
                let flat = try RedisClient.checked(replies.next()!).array ?? []
                for offset in stride(from: 0, to: flat.count - 1, by: 2) {
                    if let name = flat[offset].string { hash[name] = flat[offset + 1].string }
                }
                fields[index].append(hash)
                window[index] += try RedisClient.checked(replies.next()!).int ?? 0
            }
        }
        return applier.rules.rules.enumerated().map { index, rule in
            let partitions = fields[index]
            func sum(_ name: String) -> Int { partitions.reduce(0) { $0 + ($1[name].flatMap { Int($0) } ?? 0) } }
            let tripped = partitions.filter { $0["tripped"] == "1" }
            return RuleState(
                rule: rule,
                tripped: !tripped.isEmpty,
                trippedAt: tripped.compactMap { $0["tripped_at"].flatMap { Int64($0) } }.min(),
                windowUsers: window[index],
                knownUsers: known,
                restricted: sum("restricted"),
                held: sum("held"),
                trips: sum("trips")
            )
        }
    }

    public struct StreamStatus: Sendable, Equatable {
        var length = 0
        /// Entries not yet delivered to the group (Redis' `lag`), and delivered but not acknowledged.
        var lag = 0
        var pending = 0
        var deadLetters = 0
        public var applied = 0
        var duplicates = 0
    }

    /// The log's progress, summed over the partitions.
    public func stream() async throws -> StreamStatus {
        var commands: [RedisCommand] = []
        for partition in keys.partitions {
            commands += [
                RedisCommand("XLEN", partition.stream),
                RedisCommand("XINFO", "GROUPS", partition.stream),
                RedisCommand("XLEN", partition.deadLetters),
                RedisCommand("HMGET", partition.stats, "applied", "duplicates"),
            ]
        }
        let replies = try await redis.pipeline(commands)
        var status = StreamStatus()
        for base in stride(from: 0, to: replies.count, by: 4) {
            status.length += replies[base].int ?? 0
            for group in replies[base + 1].array ?? [] {
                let flat = group.array ?? []
                var fields: [String: RedisReply] = [:]
                for offset in stride(from: 0, to: flat.count - 1, by: 2) {
                    if let name = flat[offset].string { fields[name] = flat[offset + 1] }
                }
                guard fields["name"]?.string == applier.group else { continue }
                status.pending += fields["pending"]?.int ?? 0
                status.lag += fields["lag"]?.int ?? 0
            }
            status.deadLetters += replies[base + 2].int ?? 0
            let stats = replies[base + 3].array ?? []
            status.applied += stats.first?.string.flatMap { Int($0) } ?? 0
            status.duplicates += stats.dropFirst().first?.string.flatMap { Int($0) } ?? 0
        }
        return status
    }
}
