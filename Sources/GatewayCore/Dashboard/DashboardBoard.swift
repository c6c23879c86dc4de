import Foundation
import NIOConcurrencyHelpers
import Shared

/// What the dashboard shows, kept from the pub/sub channels: services and instances from
/// the health registry, the newest transition of every breaker (`breaker.<caller>`), the
/// state of every tripwire (`tripwire.<rule>`), and a short history of transitions.
///
/// Viewers subscribe with ``changes()`` and are told whenever something changed or time
/// passed (heartbeat ages move), then read ``state()``.
final class DashboardBoard: Sendable {
    /// Transitions kept for the history.
    static let historyLength = 50

    private struct State {
        /// Keyed `caller|instance|dependency`.
        var breakers: [String: BreakerEvent] = [:]
        var tripwires: [String: JSONValue] = [:]
        var history: [JSONValue] = []
        var viewers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextViewer = 0
    }

    private let registry: HealthRegistry
    private let state = NIOLockedValueBox(State())

    init(registry: HealthRegistry) {
        self.registry = registry
        registry.observe(nil) { [weak self] service, availability in
            self?.record(["kind": "service", "service": .string(service), "to": .string(availability.rawValue)])
        }
    }

    /// A message from `breaker.*` or `tripwire.*`.
    func ingest(channel: String, payload: [UInt8]) {
        if channel.hasPrefix("breaker.") {
            guard let event = try? JSONDecoder().decode(BreakerEvent.self, from: Data(payload)) else { return }
            state.withLockedValue { $0.breakers["\(event.caller)|\(event.instance)|\(event.dependency)"] = event }
            record([
                "kind": "breaker", "caller": .string(event.caller), "instance": .string(event.instance),
                "dependency": .string(event.dependency), "from": .string(event.from.rawValue), "to": .string(event.to.rawValue),
                "reason": .string(event.reason.rawValue), "at": .number(Double(event.at)),
            ])
        } else if channel.hasPrefix("tripwire.") {
            guard case .object(var alert) = try? JSONValue.parse(Data(payload)), case .string(let rule)? = alert["rule"] else { return }
            alert["kind"] = "tripwire"
            state.withLockedValue { $0.tripwires[rule] = .object(alert) }
            record(.object(alert))
        }
    }

    /// Everything, as `GET /dashboard/state` answers it.
    func state(now: Date = Date()) -> JSONValue {
        let services = registry.snapshot().map { view -> JSONValue in
            [
                "service": .string(view.service),
                "availability": .string(view.availability.rawValue),
                "peer_reporter": view.peerReporter.map(JSONValue.string) ?? .null,
                "instances": .array(
                    view.instances.map { instance in
                        [
                            "instance": .string(instance.instance), "status": .string(instance.status.rawValue),
                            "heartbeat_age_ms": .number(Double(instance.age.millisecondsRoundedUp)), "stale": .bool(instance.stale),
                            "version": .string(instance.version), "url": instance.url.map(JSONValue.string) ?? .null,
                            "checks": .object(instance.checks.mapValues { .string($0.rawValue) }),
                        ]
                    }
                ),
            ]
        }
        let (breakers, tripwires, history) = state.withLockedValue { ($0.breakers, $0.tripwires, $0.history) }
        return [
            "at": .number((now.timeIntervalSince1970 * 1000).rounded()),
            "services": .array(services),
            "breakers": .array(
                breakers.keys.sorted().map { key in
                    let event = breakers[key]!
                    return [
                        "caller": .string(event.caller), "instance": .string(event.instance), "dependency": .string(event.dependency),
                        "state": .string(event.to.rawValue), "reason": .string(event.reason.rawValue), "since": .number(Double(event.at)),
                    ]
                }
            ),
            "tripwires": .array(tripwires.keys.sorted().map { tripwires[$0]! }),
            "tripped": .array(tripwires.keys.sorted().filter { tripwires[$0]!["state"] == "tripped" }.map(JSONValue.string)),
            "history": .array(history.reversed()),
        ]
    }

    /// Signals for one viewer: something changed, or it is time to refresh the ages.
    func changes() -> (id: Int, signals: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLockedValue { state in
            defer { state.nextViewer += 1 }
            state.viewers[state.nextViewer] = continuation
            return state.nextViewer
        }
        continuation.yield()
        return (id, stream)
    }

    func stopWatching(_ id: Int) {
        state.withLockedValue { $0.viewers.removeValue(forKey: id) }?.finish()
    }

    /// Tells every viewer to refresh (the dashboard service calls it on a timer).
    func touch() {
        for viewer in state.withLockedValue({ Array($0.viewers.values) }) { viewer.yield() }
    }

    /// Ends every viewer's stream (graceful shutdown).
    func finishAll() {
        for viewer in state.withLockedValue({ state in
            defer { state.viewers = [:] }
            return Array(state.viewers.values)
        }) { viewer.finish() }
    }

    private func record(_ entry: JSONValue) {
        var entry = entry
        if case .object(var members) = entry, members["at"] == nil {
            members["at"] = .number((Date().timeIntervalSince1970 * 1000).rounded())
            entry = .object(members)
        }
        state.withLockedValue { state in
            state.history.append(entry)
            if state.history.count > Self.historyLength { state.history.removeFirst(state.history.count - Self.historyLength) }
        }
        touch()
    }
}
