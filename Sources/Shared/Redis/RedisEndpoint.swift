import Foundation

/// Where Redis is, parsed from `REDIS_URL` (`redis://[user:password@]host[:port][/db]`).
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` URL; returns nil when it is not one.
    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme == "redis" else { return nil }
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        self.port = components.port ?? 6379
        self.username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        self.password = components.password
        self.database = Int(components.path.drop { $0 == "/" }) ?? 0
    }
}
