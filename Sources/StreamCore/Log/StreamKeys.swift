/// Every Redis key and channel of StreamFilter, under `stream:`.
///
/// Hash tags put what one script touches in one slot: a partition's log, its dedupe marks,
/// its lease and its checkpoint share `{p<n>}`; a subscriber's delivery stream, its cursor
/// and its live channel share `{s:<id>}` (subscriber ids cannot hold braces). The workers'
/// registry is a key of its own, never used with another in one command.
///
/// | key | type | |
/// |---|---|---|
/// | `stream:{p<n>}:log` | stream | partition n of the event log (field `e`: the event) |
/// | `stream:{p<n>}:seen:<event_id>` | string | the log id of an `event_id`, for the dedupe window |
/// | `stream:{p<n>}:owner` | string | the worker holding the partition's lease |
/// | `stream:{p<n>}:checkpoint` | string | the last log id the partition's worker finished |
/// | `stream:{s:<id>}:out` | stream | the subscriber's matched events (`e`; `src`, the log id; `prev`, the entry before it) |
/// | `stream:{s:<id>}:cursor` | hash | per partition, the last log id routed to it (`p<n>`), and `last`, its newest id |
/// | `stream:{s:<id>}:live` | channel | each routed event, for the connections of the subscriber |
/// | `stream:workers` | sorted set | live workers by heartbeat time |
struct StreamKeys: Sendable {
    let partitions: Int

    /// One user's events always go to the same partition (FNV-1a of `user_id`), so they
    /// keep their order.
    func partition(of userID: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in userID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(partitions))
    }

    func log(_ partition: Int) -> String { "stream:{p\(partition)}:log" }
    func seen(_ partition: Int, eventID: String) -> String { "stream:{p\(partition)}:seen:\(eventID)" }
    func owner(_ partition: Int) -> String { "stream:{p\(partition)}:owner" }
    func checkpoint(_ partition: Int) -> String { "stream:{p\(partition)}:checkpoint" }

    static func out(_ subscriberID: String) -> String { "stream:{s:\(subscriberID)}:out" }
    static func cursor(_ subscriberID: String) -> String { "stream:{s:\(subscriberID)}:cursor" }
    static func live(_ subscriberID: String) -> String { "stream:{s:\(subscriberID)}:live" }
    static let livePattern = "stream:{s:*}:live"
    static let workers = "stream:workers"

    /// The subscriber of a live channel's name.
    static func subscriber(ofLive channel: String) -> Substring? {
        guard channel.hasPrefix("stream:{s:"), channel.hasSuffix("}:live") else { return nil }
        return channel.dropFirst(10).dropLast(6)
    }
}
