import NIOConcurrencyHelpers

/// What the registry concludes about a service from its heartbeats and peer reports.
public enum ServiceAvailability: String, Sendable, Codable {
    /// At least one instance heartbeats `up` or `degraded`, and no peer report stands.
    case up
    /// Every known instance is stale or said `down`, or a peer report is newer than the
    /// newest `up` heartbeat.
    case down
    /// Never heard of, or the health channel itself is lost: nothing is concluded.
    case unknown
}
