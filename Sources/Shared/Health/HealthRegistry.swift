import NIOConcurrencyHelpers

/// The suite's health as seen over pub/sub: every service, every instance.
///
/// Pure state driven by ``ingest(_:)``, ``channelLost()``/``channelRestored()`` and an
/// injected clock, so staleness is tested exactly. An instance is stale after three
/// heartbeat intervals without a heartbeat. A lost channel (Redis unreachable) concludes
/// nothing: every service reads `unknown` until the channel is back, and the staleness clocks
/// restart then, so healthy services are never marked down because Redis blinked.
public final class HealthRegistry: Sendable {
    public struct Instance: Sendable, Codable, Equatable {
        public var instance: String
        public var status: HealthStatus
        public var checks: [String: HealthStatus]
        public var version: String
        public var url: String?
        /// Time since its last heartbeat.
        public var age: Duration
        public var stale: Bool

        enum CodingKeys: String, CodingKey {
            case instance, status, checks, version, url
            case ageMs = "age_ms"
            case stale
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            instance = try c.decode(String.self, forKey: .instance)
            status = try c.decode(HealthStatus.self, forKey: .status)
            checks = try c.decode([String: HealthStatus].self, forKey: .checks)
            version = try c.decode(String.self, forKey: .version)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            age = .milliseconds(try c.decode(Int64.self, forKey: .ageMs))
            stale = try c.decode(Bool.self, forKey: .stale)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(instance, forKey: .instance)
            try c.encode(status, forKey: .status)
            try c.encode(checks, forKey: .checks)
            try c.encode(version, forKey: .version)
            try c.encodeIfPresent(url, forKey: .url)
            try c.encode(age.millisecondsRoundedUp, forKey: .ageMs)
            try c.encode(stale, forKey: .stale)
        }

        init(instance: String, status: HealthStatus, checks: [String: HealthStatus], version: String, url: String?, age: Duration, stale: Bool) {
            self.instance = instance
            self.status = status
            self.checks = checks
            self.version = version
            self.url = url
            self.age = age
            self.stale = stale
        }
    }

    public struct ServiceView: Sendable, Codable, Equatable {
        public var service: String
        public var availability: ServiceAvailability
        public var instances: [Instance]
        /// Who reported it down, while that report stands.
        public var peerReporter: String?

        enum CodingKeys: String, CodingKey {
            case service, availability, instances
            case peerReporter = "peer_reporter"
        }
    }

    public typealias Observer = @Sendable (_ service: String, _ availability: ServiceAvailability) -> Void

    private struct InstanceRecord {
        var message: HealthMessage
        var seenAt: Duration
    }

    private struct ServiceRecord {
        var instances: [String: InstanceRecord] = [:]
        var peerReport: (reporter: String, at: Duration)?
        var availability: ServiceAvailability = .unknown
        var peerReporter: String? { peerReport?.reporter }
    }

    private struct State {
        var services: [String: ServiceRecord] = [:]
        var channelUp = false
        var observers: [(service: String?, observer: Observer)] = []
    }

    public let interval: Duration
    /// How much longer than ``staleAfter`` an instance has to be heard again once the channel
    /// is back: its reporter reconnects to Redis on its own backoff (``RedisClient``'s ceiling
    /// is 1 s), so its first heartbeat after an outage can come that much after the registry's
    /// own reconnect. Without it, a Redis restart could mark live services down.
    public let reconnectGrace: Duration
    private let clock: ClockReading
    private let state = NIOLockedValueBox(State())

    public init<C: Clock>(interval: Duration, reconnectGrace: Duration = .seconds(1), clock: C) where C.Duration == Duration {
        self.interval = interval
        self.reconnectGrace = reconnectGrace
        self.clock = ClockReading(clock)
    }

    /// Heartbeats older than this mark their instance down; a peer report stands this long
    /// at most (its service's next `up` heartbeat cancels it sooner).
    public var staleAfter: Duration { interval * 3 }
    /// Instances silent this long (200 stale periods, 5 minutes at the default interval) are
    /// forgotten, so instance ids that come and go (restarts, forged heartbeats) do not pile
    /// up; not while the channel is lost.
    public var forgetAfter: Duration { staleAfter * 200 }
    /// An instance down this long (it said `down`, or fell silent past ``staleAfter``) while
    /// another instance of its service is up has been replaced, by a restart under a new id or
    /// a rescheduled container: it is forgotten, so that the dashboard stops showing it `down`
    /// beside its successor. 40 stale periods, 60 s at the default interval.
    public var replacedAfter: Duration { staleAfter * 40 }

    /// Calls `observer` whenever the availability of `service` (or of any service, for nil)
    /// changes. Observers run outside the registry's lock.
    public func observe(_ service: String?, _ observer: @escaping Observer) {
        state.withLockedValue { $0.observers.append((service, observer)) }
    }

    /// Takes one message from `health.*`.
    public func ingest(_ message: HealthMessage) {
        update { state, now in
            var record = state.services[message.service] ?? ServiceRecord()
            switch message.source {
            case .self:
                record.instances[message.instance] = InstanceRecord(message: message, seenAt: now)
                // A newer heartbeat of `up` from the service itself cancels a peer report.
                if message.status == .up { record.peerReport = nil }
            case .peer:
                // Only a service that is itself alive and heartbeating may report another down:
                // a report from anyone else (a forged message on Redis) is ignored.
                guard let reporter = message.reporter, let reporting = state.services[reporter],
                    reporting.instances.values.contains(where: { now - $0.seenAt <= staleAfter && $0.message.status != .down })
                else { return }
                record.peerReport = (reporter, now)
            }
            state.services[message.service] = record
        }
    }

    /// The health channel is gone (Redis unreachable): conclude nothing.
    public func channelLost() {
        update { state, _ in state.channelUp = false }
    }

    /// The channel is back: restart every staleness clock, since heartbeats sent while it
    /// was down were lost, not missing; each instance counts as heard ``reconnectGrace``
    /// from now.
    public func channelRestored() {
        update { state, now in
            state.channelUp = true
            for (name, var record) in state.services {
                for key in record.instances.keys { record.instances[key]?.seenAt = now + reconnectGrace }
                state.services[name] = record
            }
        }
    }

    /// Re-evaluates staleness; call it periodically (the registry service does).
    public func tick() {
        update { _, _ in }
    }

    /// Re-evaluated first, so a transition it shows has reached the observers.
    public func availability(of service: String) -> ServiceAvailability {
        update({ _, _ in }, then: { state, _ in state.services[service]?.availability ?? .unknown })
    }

    /// Every service and instance, for `/dashboard/state` and load balancing. Re-evaluated
    /// first, so a transition it shows has reached the observers (the dashboard's history).
    public func snapshot() -> [ServiceView] {
        update(
            { _, _ in },
            then: { state, now in
                state.services.keys.sorted().map { name in
                    let record = state.services[name]!
                    return ServiceView(
                        service: name,
                        availability: record.availability,
                        instances: record.instances.values.map { instance in
                            let age = max(.zero, now - instance.seenAt)
                            return Instance(
                                instance: instance.message.instance,
                                status: age > staleAfter ? .down : instance.message.status,
                                checks: instance.message.checks,
                                version: instance.message.version,
                                url: instance.message.url,
                                age: age,
                                stale: age > staleAfter
                            )
                        }.sorted { $0.instance < $1.instance },
                        peerReporter: record.peerReporter
                    )
                }
            }
        )
    }

    /// The URLs of the instances of `service` heard from within the staleness limit and not
    /// saying `down`, sorted; empty when none is known or the channel is lost.
    public func upURLs(of service: String) -> [String] {
        let now = clock.now
        return state.withLockedValue { state in
            guard state.channelUp, let record = state.services[service], !Self.peerReportStands(record, now: now, staleAfter: staleAfter) else {
                return []
            }
            return record.instances.values.compactMap { instance in
                now - instance.seenAt > staleAfter || instance.message.status == .down ? nil : instance.message.url
            }.sorted()
        }
    }

    // MARK: Evaluation

    private func update(_ body: (inout State, Duration) -> Void) {
        update(body, then: { _, _ in })
    }

    /// Applies `body`, re-evaluates every service's availability and reads with `read`, all
    /// under one lock; then tells the observers of each change.
    private func update<T>(_ body: (inout State, Duration) -> Void, then read: (State, Duration) -> T) -> T {
        let now = clock.now
        let (changes, observers, result) = state.withLockedValue {
            state -> ([(String, ServiceAvailability)], [(service: String?, observer: Observer)], T) in
            body(&state, now)
            if state.channelUp { forgetSilent(&state, now: now) }
            var changes: [(String, ServiceAvailability)] = []
            for (name, var record) in state.services {
                let availability = Self.availability(record, channelUp: state.channelUp, now: now, staleAfter: staleAfter)
                if availability != record.availability {
                    record.availability = availability
                    state.services[name] = record
                    changes.append((name, availability))
                }
            }
            return (changes, state.observers, read(state, now))
        }
        for (service, availability) in changes {
            for entry in observers where entry.service == nil || entry.service == service {
                entry.observer(service, availability)
            }
        }
        return result
    }

    /// Drops instances silent for ``forgetAfter``, and those down for ``replacedAfter`` while
    /// another instance of their service is up.
    private func forgetSilent(_ state: inout State, now: Duration) {
        let (limit, replaced, stale) = (forgetAfter, replacedAfter, staleAfter)
        func isUp(_ instance: InstanceRecord) -> Bool { now - instance.seenAt <= stale && instance.message.status != .down }
        func downSince(_ instance: InstanceRecord) -> Duration {
            instance.message.status == .down ? instance.seenAt : instance.seenAt + stale
        }
        for (name, record) in state.services {
            let anyUp = record.instances.values.contains(where: isUp)
            let kept = record.instances.filter { _, instance in
                now - instance.seenAt <= limit && !(anyUp && !isUp(instance) && now - downSince(instance) > replaced)
            }
            if kept.count != record.instances.count { state.services[name]?.instances = kept }
        }
    }

    private static func peerReportStands(_ record: ServiceRecord, now: Duration, staleAfter: Duration) -> Bool {
        record.peerReport.map { now - $0.at <= staleAfter } ?? false
    }

    private static func availability(_ record: ServiceRecord?, channelUp: Bool, now: Duration, staleAfter: Duration) -> ServiceAvailability {
        guard channelUp, let record else { return .unknown }
        let reported = peerReportStands(record, now: now, staleAfter: staleAfter)
        guard !record.instances.isEmpty || reported else { return .unknown }
        if reported { return .down }
        let anyUp = record.instances.values.contains { now - $0.seenAt <= staleAfter && $0.message.status != .down }
        return anyUp ? .up : .down
    }
}
