import Shared

/// The settings of Profile, Post or Feed, read from the environment.
///
/// | variable | default | |
/// |---|---|---|
/// | `PROFILE_PORT`, `POST_PORT`, `FEED_PORT` | 8085, 8086, 8087 | |
/// | `PROFILE_URL` | `http://127.0.0.1:8085` | where Post and Feed reach Profile |
/// | `PROFILE_TIMEOUT_MS` | 800 | their deadline for a Profile call |
///
/// and the platform's settings (``ServiceConfiguration``).
public struct SocialConfiguration: ServiceSettings {
    /// Which of the three services.
    public enum Service: String, Sendable {
        case profile, post, feed
    }

    public var service: ServiceConfiguration
    /// How Post and Feed call Profile.
    var profileClient: ProfileClient.Configuration

    public init(_ service: Service, environment: EnvironmentReader = EnvironmentReader()) throws {
        let (portVariable, port) =
            switch service {
            case .profile: ("PROFILE_PORT", 8085)
            case .post: ("POST_PORT", 8086)
            case .feed: ("FEED_PORT", 8087)
            }
        self.service = try .load(service: service.rawValue, portVariable: portVariable, defaultPort: port, environment: environment)
        self.profileClient = ProfileClient.Configuration(environment: environment)
    }
}
