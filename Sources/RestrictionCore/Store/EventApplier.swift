import Foundation
import Shared

/// Applies logged events to users' state and the rules, in Redis, each in one atomic script.
///
/// Exactly once and in order per user: the ingest script numbers each user's events
/// (`seq`); applying one checks it against the user's last applied number, updates the
/// metrics, runs the affected rules and their tripwires, and acknowledges the entry, all in
/// one script. A redelivered entry (`seq` ≤ applied) is only acknowledged; one whose
/// predecessor is still in another consumer's hands (`seq` > applied + 1) is left pending
/// and retried. So any number of consumers may share the group.
public struct EventApplier: Sendable {
    enum Outcome: Sendable, Equatable {
        /// Applied; what the rules did: `restricted:<rule>`, `held:<rule>`, `tripped:<rule>`.
        case applied([String])
        case duplicate
        /// An earlier event of the same user is not applied yet.
        case deferred
        /// Not an entry `POST /event` wrote (or of an event no longer in the catalog).
        case malformed(String)
    }

    /// The per-event part of the script's arguments, computed once per event name.
    struct Plan: Sendable {
        /// kind, metric and the field whose value it takes (`nil` for counts).
        let updates: [(kind: String, metric: String, field: String?)]
        let rules: [RuleDefinition]
        let ruleArguments: [any RedisArgument]
        /// Rule and window keys of the affected rules, by partition.
        let ruleKeys: [[String]]
    }

    let keys: RestrictionKeys
    let group: String
    let rules: RuleSet
    let tripwire: TripwireConfiguration
    let redis: RedisClient
    let plans: [String: Plan]
    let deadLetterMaxLength: Int

    public init(
        redis: RedisClient,
        keys: RestrictionKeys,
        group: String,
        rules: RuleSet,
        tripwire: TripwireConfiguration,
        deadLetterMaxLength: Int = 100_000
    ) {
        self.redis = redis
        self.keys = keys
        self.group = group
        self.rules = rules
        self.tripwire = tripwire
        self.deadLetterMaxLength = deadLetterMaxLength
        var plans: [String: Plan] = [:]
        for event in rules.events {
            let updates = rules.metrics(updatedBy: event.name).map { metric -> (kind: String, metric: String, field: String?) in
                switch metric.kind {
                case .count: ("count", metric.name, nil)
                case .sum(let field): ("sum", metric.name, field)
                case .distinct(let field): ("distinct", metric.name, field)
                }
            }
            let affected = rules.rules(affectedBy: event.name)
            var arguments: [any RedisArgument] = [affected.count]
            for rule in affected {
                arguments += [rule.name, rule.clears, rule.conditions.count]
                for condition in rule.conditions {
                    arguments += [condition.metric, condition.per ?? "", condition.op.rawValue, "\(condition.value)"]
                }
            }
            plans[event.name] = Plan(
                updates: updates,
                rules: affected,
                ruleArguments: arguments,
                ruleKeys: keys.partitions.map { partition in affected.flatMap { [partition.rule($0.name), partition.window($0.name)] } }
            )
        }
        self.plans = plans
    }

    /// Applies `entries` in order in one pipeline; a Redis error for one entry is that
    /// entry's result (it stays pending and is delivered again).
    func apply(_ entries: [RedisStreamEntry], now: Int64) async throws -> [Result<Outcome, RedisError>] {
        var commands: [RedisCommand] = []
        var results: [Result<Outcome, RedisError>?] = []
        for entry in entries {
            switch command(for: entry, now: now) {
            case .success(let command):
                commands.append(command)
                results.append(nil)
            case .failure(let reason):
                results.append(.success(.malformed(reason.description)))
            }
        }
        if commands.isEmpty { return results.map { $0! } }
        var replies = try await redis.pipeline(commands)
        if replies.contains(where: { if case .error(let message) = $0 { message.hasPrefix("NOSCRIPT") } else { false } }) {
            // After a Redis restart: load and run the batch again. Entries the first pass
            // applied are duplicates now, which the script answers by acknowledging only.
            replies = try await redis.pipeline(commands, loading: Self.applyScript)
        }
        var next = replies.makeIterator()
        return results.map { result in
            if let result { return result }
            switch next.next()! {
            case .error(let message): return .failure(RedisError(message: message))
            case let reply:
                if let parts = reply.array, parts.first?.string == "failed" {
                    return .failure(RedisError(message: parts.dropFirst().first?.string ?? "failed"))
                }
                return .success(Self.outcome(reply))
            }
        }
    }

    private struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private func command(for entry: RedisStreamEntry, now: Int64) -> Result<RedisCommand, Malformed> {
        guard let name = entry.string("name"), let user = entry.string("user_id"), !user.isEmpty,
            let seq = entry.string("seq").flatMap(Int.init), seq > 0
        else { return .failure(Malformed(description: "missing name, user_id or seq")) }
        guard let plan = plans[name] else { return .failure(Malformed(description: "unknown event '\(name)'")) }
        let partition = self.keys.partition(ofUser: user)
        // Only an entry written some other way (or under another partition count) can sit in
        // a log its user does not hash to; applying it would split the user's state.
        guard entry.stream == partition.stream else {
            return .failure(Malformed(description: "user '\(user)' belongs to partition \(partition.index), not \(entry.stream)"))
        }
        var keys = [partition.stream, partition.user(user), partition.users, partition.stats]
        var arguments: [any RedisArgument] = [
            group, entry.id, seq, Int(now), Int(tripwire.window.seconds * 1000), "\(tripwire.ratio)", tripwire.minimumUsers, user, plan.updates.count,
        ]
        for update in plan.updates {
            var value: [UInt8] = []
            if let field = update.field {
                guard let bytes = entry.fields[field] else { return .failure(Malformed(description: "missing field '\(field)'")) }
                value = bytes
            }
            arguments += [update.kind, update.metric, value]
            if update.kind == "distinct" { keys.append(partition.distinct(update.metric, user: user)) }
        }
        keys += plan.ruleKeys[partition.index]
        return .success(Self.applyScript.call(keys: keys, arguments: arguments + plan.ruleArguments))
    }

    private static func outcome(_ reply: RedisReply) -> Outcome {
        let parts = (reply.array ?? []).compactMap(\.string)
        switch parts.first {
        case "duplicate": return .duplicate
        case "deferred": return .deferred
        default: return .applied(Array(parts.dropFirst()))
        }
    }

    /// Moves an entry to the dead-letter stream with why, acknowledges it, and lets the
    /// user's later events go on without it.
    func deadLetter(_ entry: RedisStreamEntry, reason: String, deliveries: Int) async throws {
        guard let partition = keys.partition(ofStream: entry.stream) else { return }
        // The user's `applied` is moved on only in the user's own partition: an entry in the
        // wrong log (see `command(for:now:)`) leaves the user's numbering alone.
        let user = entry.string("user_id").map { keys.partition(ofUser: $0).index == partition.index ? $0 : "" } ?? ""
        var arguments: [any RedisArgument] = [
            group, entry.id, user.isEmpty ? "" : entry.string("seq") ?? "", reason, deliveries, deadLetterMaxLength,
        ]
        for (field, value) in entry.fields.sorted(by: { $0.key < $1.key }) { arguments += [field, value] }
        _ = try await redis.run(
            Self.deadLetterScript,
            keys: [partition.stream, partition.deadLetters, partition.user(user), partition.stats],
            arguments: arguments
        )
    }

    /// Keeps each rule's tripwire combined over the partitions, and re-arms every tripped
    /// rule whose window has fallen back under the threshold; returns their names. The
    /// consumer calls this every second.
    ///
    /// A partition's script decides from its own window and users plus the other partitions'
    /// figures as of the last call (`others_window`, `others_known`), so the wire trips on
    /// the combined counts, at most a second stale, without a script reaching across slots.
    /// One partition tripping makes the others follow here; re-arming takes the combined
    /// counts too, partition by partition, each in one script. With one partition the other
    /// figures are zero and this is the exact tripwire of one Redis.
    @discardableResult
    func rearm(now: Int64) async throws -> [String] {
        let windowMs = Int(tripwire.window.seconds * 1000)
        let partitions = keys.partitions
        // The figures each partition holds now: known users, then per rule the window's users
        // and when it tripped (nil: not tripped).
        var known = Array(repeating: 0, count: partitions.count)
        var window = Array(repeating: Array(repeating: 0, count: partitions.count), count: rules.rules.count)
        var trippedAt = Array(repeating: [Int64?](repeating: nil, count: partitions.count), count: rules.rules.count)
        if partitions.count > 1 {
            var commands: [RedisCommand] = []
            for partition in partitions {
                commands.append(RedisCommand("SCARD", partition.users))
                for rule in rules.rules {
                    commands.append(RedisCommand("ZCOUNT", partition.window(rule.name), "(\(Int(now) - windowMs)", "+inf"))
                    commands.append(RedisCommand("HMGET", partition.rule(rule.name), "tripped", "tripped_at"))
                }
            }
            var replies = try await redis.pipeline(commands).makeIterator()
            for p in partitions.indices {
                known[p] = try RedisClient.checked(replies.next()!).int ?? 0
                for r in rules.rules.indices {
                    window[r][p] = try RedisClient.checked(replies.next()!).int ?? 0
                    let state = try RedisClient.checked(replies.next()!).array ?? []
                    if state.first?.string == "1" { trippedAt[r][p] = state.dropFirst().first?.string.flatMap { Int64($0) } ?? now }
                }
            }
        }
        let totalKnown = known.reduce(0, +)
        var commands: [RedisCommand] = []
        for (r, rule) in rules.rules.enumerated() {
            let totalWindow = window[r].reduce(0, +)
            for partition in partitions {
                let p = partition.index
                let othersTripped = trippedAt[r].indices.filter { $0 != p }.compactMap { trippedAt[r][$0] }.min()
                commands.append(
                    Self.rearmScript.call(
                        keys: [partition.rule(rule.name), partition.window(rule.name), partition.users],
                        arguments: [
                            Int(now), windowMs, "\(tripwire.ratio)", tripwire.minimumUsers,
                            totalWindow - window[r][p], totalKnown - known[p], othersTripped.map { "\($0)" } ?? "",
                        ]
                    )
                )
            }
        }
        let replies = try await redis.pipeline(commands, loading: Self.rearmScript)
        var rearmed: [String] = []
        for (r, rule) in rules.rules.enumerated() {
            let mine = try replies[r * partitions.count..<(r + 1) * partitions.count].map { try RedisClient.checked($0).array ?? [] }
            guard mine.contains(where: { $0.first?.int == 1 }) else { continue }
            rearmed.append(rule.name)
            let count = mine.first?.dropFirst().first?.int ?? 0
            let knownUsers = mine.first?.dropFirst(2).first?.int ?? 0
            try await alert(
                rule.name,
                [
                    "state": "armed", "by": "rate", "at": .exactly(now), "window_users": .exactly(Int64(count)),
                    "known_users": .exactly(Int64(knownUsers)),
                ]
            )
        }
        return rearmed
    }

    /// An operator's reset: the rule's windows are emptied and it applies restrictions again
    /// in every partition. Returns whether it was tripped.
    @discardableResult
    func reset(rule: String, now: Int64) async throws -> Bool {
        let replies = try await redis.pipeline(
            keys.partitions.map { Self.resetScript.call(keys: [$0.rule(rule), $0.window(rule)], arguments: [Int(now)]) },
            loading: Self.resetScript
        )
        let was = try replies.contains { try RedisClient.checked($0).int == 1 }
        try await alert(rule, ["state": "armed", "by": "reset", "at": .exactly(now)])
        return was
    }

    /// One alert on `tripwire.<rule>` (tripping is announced by the script that trips).
    private func alert(_ rule: String, _ fields: [String: JSONValue]) async throws {
        var message = fields
        message["rule"] = .string(rule)
        _ = try await redis.publish(RestrictionKeys.alertChannel(rule), Array(try JSONEncoder().encode(JSONValue.object(message))))
    }

    // MARK: scripts

    /// KEYS: stream, user, users, stats, one set per distinct update, then rule and window
    /// per rule. ARGV: group, id, seq, now ms, window ms, ratio, minimum, user, updates
    /// (kind, metric, value)…, rules (name, access, conditions (metric, per, op, value)…)….
    static let applyScript = RedisScript(
        """
        local stream, userKey, usersKey, statsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
        local group, id, seq, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local windowMs, ratio, minimum, user = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
        -- A script stopped by an error keeps the writes it made, so check every key's type
        -- before the first write: a key of the wrong type fails the entry with nothing applied.
        local expected = {[2] = 'hash', [3] = 'set', [4] = 'hash'}
        for i = 2, #KEYS do
          local want = expected[i] or 'set'
          if i > 4 and KEYS[i]:sub(-7) == ':window' then want = 'zset' elseif i > 4 and KEYS[i]:find(':rule:', 1, true) then want = 'hash' end
          local actual = redis.call('TYPE', KEYS[i]).ok
          if actual ~= 'none' and actual ~= want then return {'failed', KEYS[i] .. ' is a ' .. actual .. ', not a ' .. want} end
        end
        local applied = tonumber(redis.call('HGET', userKey, 'applied') or '0')
        if seq <= applied then
          redis.call('XACK', stream, group, id)
          redis.call('HINCRBY', statsKey, 'duplicates', 1)
          return {'duplicate'}
        end
        local reached = applied
        while seq > reached + 1 and redis.call('HDEL', userKey, 'skip:' .. (reached + 1)) == 1 do reached = reached + 1 end
        if seq > reached + 1 then
          if reached > applied then redis.call('HSET', userKey, 'applied', reached) end
          return {'deferred'}
        end
        redis.call('HSET', userKey, 'applied', seq)
        redis.call('SADD', usersKey, user)
        local a, k = 10, 5
        for _ = 1, tonumber(ARGV[9]) do
          local kind, field, value = ARGV[a], 'm:' .. ARGV[a + 1], ARGV[a + 2]
          a = a + 3
          if kind == 'count' then
            redis.call('HINCRBY', userKey, field, 1)
          elseif kind == 'sum' then
            redis.call('HINCRBYFLOAT', userKey, field, value)
          else
            redis.call('SADD', KEYS[k], value)
            redis.call('HSET', userKey, field, redis.call('SCARD', KEYS[k]))
            k = k + 1
          end
        end
        local function metric(name)
          return tonumber(redis.call('HGET', userKey, 'm:' .. name) or '0')
        end
        local outcomes = {'applied'}
        local ruleCount = tonumber(ARGV[a])
        a = a + 1
        for _ = 1, ruleCount do
          local name, access, conditions = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
          a = a + 3
          local holds = true
          for _ = 1, conditions do
            if holds then
              local value, per, op, threshold = metric(ARGV[a]), ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
              if per ~= '' then
                local divisor = metric(per)
                if divisor > 0 then value = value / divisor else holds = false end
              end
              if holds then
                if op == '>' then holds = value > threshold
                elseif op == '>=' then holds = value >= threshold
                elseif op == '<' then holds = value < threshold
                else holds = value <= threshold end
              end
            end
            a = a + 4
          end
          local ruleKey, windowKey = KEYS[k], KEYS[k + 1]
          k = k + 2
          if holds and redis.call('HEXISTS', userKey, 'r:' .. access) == 0 then
            redis.call('ZREMRANGEBYSCORE', windowKey, '-inf', now - windowMs)
            redis.call('ZADD', windowKey, now, user)
            -- The other partitions' figures, as the last rearm round left them (0 with one).
            local state = redis.call('HMGET', ruleKey, 'tripped', 'others_window', 'others_known')
            local count = redis.call('ZCARD', windowKey) + tonumber(state[2] or '0')
            local known = redis.call('SCARD', usersKey) + tonumber(state[3] or '0')
            local tripped = state[1] == '1'
            if not tripped and count > ratio * known and count >= minimum then
              tripped = true
              redis.call('HSET', ruleKey, 'tripped', 1, 'tripped_at', now)
              redis.call('HINCRBY', ruleKey, 'trips', 1)
              redis.call('PUBLISH', 'tripwire.' .. name, cjson.encode({rule = name, state = 'tripped', at = now, window_users = count, known_users = known}))
              outcomes[#outcomes + 1] = 'tripped:' .. name
            end
            if tripped then
              if redis.call('HSETNX', userKey, 'h:' .. name, now .. '|' .. id) == 1 then
                redis.call('HINCRBY', ruleKey, 'held', 1)
                outcomes[#outcomes + 1] = 'held:' .. name
              end
            else
              redis.call('HSET', userKey, 'r:' .. access, name .. '|' .. now .. '|' .. id)
              redis.call('HINCRBY', ruleKey, 'restricted', 1)
              outcomes[#outcomes + 1] = 'restricted:' .. name
            end
          end
        end
        redis.call('XACK', stream, group, id)
        redis.call('HINCRBY', statsKey, 'applied', 1)
        return outcomes
        """
    )

    /// KEYS: stream, dead letters, user, stats. ARGV: group, id, seq, reason, deliveries,
    /// maxlen, original field/value….
    static let deadLetterScript = RedisScript(
        """
        local command = {'XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'original_id', ARGV[2], 'reason', ARGV[4], 'deliveries', ARGV[5]}
        for i = 7, #ARGV do command[#command + 1] = ARGV[i] end
        redis.call(unpack(command))
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('HINCRBY', KEYS[4], 'dead', 1)
        local seq = tonumber(ARGV[3])
        if seq then
          local applied = tonumber(redis.call('HGET', KEYS[3], 'applied') or '0')
          if seq == applied + 1 then
            redis.call('HSET', KEYS[3], 'applied', seq)
          elseif seq > applied + 1 then
            redis.call('HSET', KEYS[3], 'skip:' .. seq, 1)
          end
        end
        return 1
        """
    )

    /// KEYS: rule, window, users. ARGV: now ms, window ms, ratio, minimum, the other
    /// partitions' window users and known users, when the first of them tripped ('' when
    /// none is tripped). Returns {1 re-armed | 2 tripped to follow the others | 0, combined
    /// window users, combined known users}.
    static let rearmScript = RedisScript(
        """
        local now, ratio, minimum = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
        redis.call('HSET', KEYS[1], 'others_window', ARGV[5], 'others_known', ARGV[6])
        local count = redis.call('ZCARD', KEYS[2]) + tonumber(ARGV[5])
        local known = redis.call('SCARD', KEYS[3]) + tonumber(ARGV[6])
        local holds = count > ratio * known and count >= minimum
        local tripped = redis.call('HGET', KEYS[1], 'tripped') == '1'
        if tripped and not holds then
          redis.call('HSET', KEYS[1], 'tripped', 0, 'rearmed_at', now)
          return {1, count, known}
        end
        if not tripped and holds and ARGV[7] ~= '' then
          redis.call('HSET', KEYS[1], 'tripped', 1, 'tripped_at', ARGV[7])
          return {2, count, known}
        end
        return {0, count, known}
        """
    )

    /// KEYS: rule, window. ARGV: now ms. Returns whether it was tripped.
    static let resetScript = RedisScript(
        """
        redis.call('DEL', KEYS[2])
        local was = redis.call('HGET', KEYS[1], 'tripped') == '1'
        -- Every partition's window is emptied, so the others' figure is 0 as well.
        redis.call('HSET', KEYS[1], 'tripped', 0, 'rearmed_at', ARGV[1], 'others_window', 0)
        if was then return 1 end
        return 0
        """
    )
}
