/// One heartbeat or peer report on `health.<service>`.
public struct HealthMessage: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable {
        /// The instance speaks for itself.
        case `self`
        /// A caller reports that its breaker for this service opened.
        case peer
    }

    public var service: String
    public var instance: String
    public var status: HealthStatus
    public var checks: [String: HealthStatus]
    public var source: Source
    public var reporter: String?
    /// Unix milliseconds.
    public var at: Int64
    public var version: String
    /// Where the instance answers HTTP (beyond the fixed message: the gateway balances over
    /// the instances it hears from).
    public var url: String?

    public init(
        service: String,
        instance: String,
        status: HealthStatus,
        checks: [String: HealthStatus] = [:],
        source: Source = .self,
        reporter: String? = nil,
        at: Int64,
        version: String = SuiteVersion.current,
        url: String? = nil
    ) {
        self.service = service
        self.instance = instance
        self.status = status
        self.checks = checks
        self.source = source
        self.reporter = reporter
        self.at = at
        self.version = version
        self.url = url
    }

    public static func channel(for service: String) -> String { "health.\(service)" }
}
