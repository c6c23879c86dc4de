import Crypto
import Shared

/// Where RestrictionConsumer keeps its state in Redis: the log split into partitions by a
/// hash of the user id, each partition's keys in one hash slot.
///
/// Every key starts with the prefix; the parts after a fixed tag are a single user id or
/// name, so no two kinds of key collide whatever a user id contains. An event's script
/// touches its partition's stream, its user, the partition's known users, totals and rule
/// state, and nothing else, so on Redis Cluster every script stays in one slot and the
/// partitions spread over the masters.
///
/// One partition on one Redis keeps the unpartitioned names of earlier versions
/// (`restrictions:events`, `restrictions:u:<id>`, …), so existing data is read as it is.
/// Otherwise partition `n` is `<stream>:{r<n>}` with its keys under `<prefix>:{r<n>}:`. The
/// partition count decides where each user's state lives, so it is fixed for a data set:
/// ``layout`` records it and a consumer refuses to start against another count.
public struct RestrictionKeys: Sendable {
    /// One partition's keys.
    public struct Partition: Sendable {
        public let index: Int
        let prefix: String
        /// The event log (a stream) and where entries that could not be applied go.
        public let stream: String
        let deadLetters: String

        /// A user's state: `seq` (events received), `applied` (last applied), `m:<metric>`,
        /// `r:<access>` (restrictions), `h:<rule>` (held by a tripped rule), `skip:<seq>`.
        func user(_ id: String) -> String { "\(prefix):u:\(id)" }
        /// The members behind a distinct-count metric.
        func distinct(_ metric: String, user: String) -> String { "\(prefix):d:\(metric):\(user)" }
        /// Every user of this partition an event was applied for: the tripwires' "known users".
        var users: String { "\(prefix):users" }
        /// Counters: `applied`, `duplicates`, `dead`.
        var stats: String { "\(prefix):stats" }
        /// A rule's tripwire state here: `tripped`, `tripped_at`, `restricted`, `held`,
        /// `trips`, and the other partitions' figures (`others_window`, `others_known`).
        func rule(_ name: String) -> String { "\(prefix):rule:\(name)" }
        /// The users of this partition a rule decided to restrict, scored by when.
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
    }

    let prefix: String
    public let partitions: [Partition]
    private let byStream: [String: Int]

    /// - Parameters:
    ///   - stream: the log's name (default `<prefix>:events`); partitions add `:{r<n>}`.
    ///   - partitions: how many; 1 or more.
    ///   - tagged: hash-tagged names even for one partition (Redis Cluster needs them).
    public init(prefix: String = "restrictions", stream: String? = nil, partitions: Int = 1, tagged: Bool = false) {
        self.prefix = prefix
        let stream = stream ?? "\(prefix):events"
        let count = max(1, partitions)
        self.partitions = (0..<count).map { index in
            let tag = count == 1 && !tagged ? nil : "{r\(index)}"
            let partitionStream = tag.map { "\(stream):\($0)" } ?? stream
            return Partition(
                index: index,
                prefix: tag.map { "\(prefix):\($0)" } ?? prefix,
                stream: partitionStream,
                deadLetters: "\(partitionStream):dead"
            )
        }
        self.byStream = Dictionary(uniqueKeysWithValues: self.partitions.map { ($0.stream, $0.index) })
    }

    /// The layout the service takes on one Redis or a cluster when `RESTRICTIONS_PARTITIONS`
    /// is not set: one partition under the old names on one Redis; on a cluster 16 (each
    /// partition's keys share one slot, so partitions are what spreads the work over the
    /// masters, and 16 leave each of three masters several).
    public static func service(stream: String? = nil, partitions: Int? = nil, cluster: Bool) -> RestrictionKeys {
        RestrictionKeys(stream: stream, partitions: partitions ?? (cluster ? 16 : 1), tagged: cluster)
    }

    /// The partition of `user`: FNV-1a of its UTF-8 bytes, modulo the count.
    public func partition(ofUser user: String) -> Partition {
        if partitions.count == 1 { return partitions[0] }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in user.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return partitions[Int(hash % UInt64(partitions.count))]
    }

    /// The partition whose log is `stream`.
    func partition(ofStream stream: String) -> Partition? { byStream[stream].map { partitions[$0] } }

    /// Where the partition count of this data set is recorded (a string).
    var layout: String { "\(prefix):layout" }
    /// The live consumers, scored by when each was last seen (``ConsumerMembership``).
    var consumers: String { "\(prefix):consumers" }

    /// Tripwire alerts go out on `tripwire.<rule>`.
    static func alertChannel(_ rule: String) -> String { "tripwire.\(rule)" }
}
