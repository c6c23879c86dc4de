import Foundation

/// The suite behind its gateway: Profile, Post and Feed (a ``SocialCluster``), FlagService
/// and RestrictionConsumer on the same private Redis, and a Gateway routing to all of them.
public final class GatewayCluster: @unchecked Sendable {
    public static let adminKey = "gateway-test-key"

    public let social: SocialCluster
    public let flags: ServiceProcess
    public let restrictions: ServiceProcess
    public let gateway: ServiceProcess
    private var extraGateways: [ServiceProcess] = []

    public var baseURL: String { gateway.baseURL }

    /// What every service here shares: the cluster's Redis, the admin key, the health interval.
    static func common(_ social: SocialCluster) -> [String: String] {
        social.redis.environment.merging(["ADMIN_API_KEYS": adminKey, "HEALTH_INTERVAL_MS": "500"]) { $1 }
    }

    /// The gateway's upstream URLs (heartbeats say the same; these serve until they arrive).
    static func upstreams(_ social: SocialCluster, flags: ServiceProcess, restrictions: ServiceProcess) -> [String: String] {
        [
            "FLAG_URL": flags.baseURL, "RESTRICTION_URL": restrictions.baseURL,
            "PROFILE_URL": social.profile.baseURL, "POST_URL": social.post.baseURL, "FEED_URL": social.feed.baseURL,
        ]
    }

    /// - Parameter gatewayEnvironment: extra settings for the gateway (rate limit, timeouts).
    public init(gatewayEnvironment: [String: String] = [:]) async throws {
        social = try await SocialCluster()
        let common = Self.common(social)
        let flagsDatabase = try await TestEnvironment.freshDatabase("flags")
        async let flags = ServiceProcess.start(
            "FlagService",
            portVariable: "FLAG_PORT",
            environment: common.merging([
                "DATABASE_URL": flagsDatabase, "PG_QUERY_TIMEOUT_MS": "2000",
            ]) { $1 }
        )
        async let restrictions = ServiceProcess.start("RestrictionConsumer", portVariable: "RESTRICTION_PORT", environment: common)
        self.flags = try await flags
        self.restrictions = try await restrictions
        gateway = try await Self.startGateway(
            common: common,
            upstreams: Self.upstreams(social, flags: self.flags, restrictions: self.restrictions),
            extra: gatewayEnvironment
        )
    }

    private static func startGateway(common: [String: String], upstreams: [String: String], extra: [String: String]) async throws -> ServiceProcess {
        try await ServiceProcess.start(
            "Gateway",
            portVariable: "GATEWAY_PORT",
            environment: common.merging(upstreams) { $1 }.merging([
                // The dashboard's own tests say when it is keyed.
                "GATEWAY_TIMEOUT_MS": "3000", "GATEWAY_RATE_LIMIT": "off", "GATEWAY_DASHBOARD_AUTH": "open",
            ]) { $1 }.merging(extra) { $1 }
        )
    }

    /// Another gateway in front of the same services, with its own settings.
    public func startGateway(environment: [String: String]) async throws -> ServiceProcess {
        let gateway = try await Self.startGateway(
            common: Self.common(social),
            upstreams: Self.upstreams(social, flags: flags, restrictions: restrictions),
            extra: environment
        )
        extraGateways.append(gateway)
        return gateway
    }

    public func stop() async {
        await ServiceProcess.stopAll([gateway, flags, restrictions] + extraGateways)
        await social.stop()
    }
}
