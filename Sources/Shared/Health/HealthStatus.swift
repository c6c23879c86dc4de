/// A service instance's own view of itself, as published in heartbeats.
public enum HealthStatus: String, Codable, Sendable {
    case up
    case degraded
    case down
}
