import Crypto
import Shared

/// Where RestrictionConsumer keeps its state in Redis. Every key starts with the prefix;
/// the parts after a fixed tag are a single user id or name, so no two kinds of key collide
/// whatever a user id contains.
public struct RestrictionKeys: Sendable {
    let prefix: String
    /// The event log (a stream) and where entries that could not be applied go.
    let stream: String
    let deadLetters: String

    public init(prefix: String = "restrictions", stream: String? = nil) {
        self.prefix = prefix
        self.stream = stream ?? "\(prefix):events"
        self.deadLetters = "\(self.stream):dead"
    }

    /// A user's state: `seq` (events received), `applied` (last applied), `m:<metric>`,
    /// `r:<access>` (restrictions), `h:<rule>` (held by a tripped rule), `skip:<seq>`.
    func user(_ id: String) -> String { "\(prefix):u:\(id)" }
    /// The members behind a distinct-count metric.
    func distinct(_ metric: String, user: String) -> String { "\(prefix):d:\(metric):\(user)" }
    /// Every user an event was applied for: the tripwires' "known users".
    var users: String { "\(prefix):users" }
    /// Counters: `applied`, `duplicates`, `dead`.
    var stats: String { "\(prefix):stats" }
    /// A rule's tripwire state: `tripped`, `tripped_at`, `restricted`, `held`, `trips`.
    func rule(_ name: String) -> String { "\(prefix):rule:\(name)" }
    /// The users a rule decided to restrict, scored by when: the tripwire's window.
    func window(_ rule: String) -> String { "\(prefix):rule:\(rule):window" }
    /// An `event_id`'s answer, scoped to who sent it and for which user: one producer can
    /// neither pre-claim nor read back another's ids. The three parts are hashed together
    /// (length-prefixed), so the key is fixed in size and carries no user id or key material.
    func idempotency(_ key: String, producer: String, user: String) -> String {
        var hash = SHA256()
        for part in [producer, user, key] {
            withUnsafeBytes(of: UInt64(part.utf8.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: Array(part.utf8))
        }
        return "\(prefix):idem:" + hex(hash.finalize())
    }
    /// Tripwire alerts go out on `tripwire.<rule>`.
    static func alertChannel(_ rule: String) -> String { "tripwire.\(rule)" }
}
