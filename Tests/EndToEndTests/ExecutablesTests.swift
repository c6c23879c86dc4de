import Foundation
import Shared
import TestSupport
import Testing

/// The eight executables as operators run them.
struct Executable: Sendable, CustomTestStringConvertible {
    let name: String
    let service: String
    let portVariable: String
    let usesPostgres: Bool
    var testDescription: String { name }

    static let all = [
        Executable(name: "Gateway", service: "gateway", portVariable: "GATEWAY_PORT", usesPostgres: false),
        Executable(name: "FlagService", service: "flags", portVariable: "FLAG_PORT", usesPostgres: true),
        Executable(name: "RestrictionConsumer", service: "restriction", portVariable: "RESTRICTION_PORT", usesPostgres: false),
        Executable(name: "AnalyticsService", service: "analytics", portVariable: "ANALYTICS_PORT", usesPostgres: false),
        Executable(name: "StreamFilter", service: "stream", portVariable: "STREAM_PORT", usesPostgres: true),
        Executable(name: "ProfileService", service: "profile", portVariable: "PROFILE_PORT", usesPostgres: true),
        Executable(name: "PostService", service: "post", portVariable: "POST_PORT", usesPostgres: true),
        Executable(name: "FeedService", service: "feed", portVariable: "FEED_PORT", usesPostgres: true),
    ]
}

@Suite("Executables", .teardown)
struct ExecutablesTests {
    let logger = TestEnvironment.logger

    /// `LOG_FORMAT=json` in a running service: every line it writes, from start-up to
    /// shutdown, is one JSON object with the level, the message and namespaced keys.
    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let redis = try await PrivateRedis.start()
        let process = try await ServiceProcess.start(
            "RestrictionConsumer",
            portVariable: "RESTRICTION_PORT",
            environment: ["REDIS_URL": redis.url, "LOG_FORMAT": "json", "HEALTH_INTERVAL_MS": "200"]
        )
        afterTest {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            try? await redis.stop()
        }
        #expect(try await HTTP.get(process.baseURL + "/canmessage", headers: ["X-Request-Id": "json-log-1"]).status == 422)
        process.signal(SIGTERM)
        #expect(await process.waitForExit() == 0)
        let lines = process.log.split(separator: "\n")
        #expect(lines.count >= 3, "\(process.log)")
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not one JSON object: \(line)")
                continue
            }
            #expect(object["level"] is String && object["msg"] is String && object["ts"] is String, "\(line)")
            objects.append(object)
        }
        // The access log line of that request, its fields as keys of their own.
        #expect(objects.contains { $0["hb.request.id"] as? String == "json-log-1" && $0["http.status"] as? String == "422" }, "\(process.log)")
    }

    @Test(arguments: Executable.all)
    func startsAnswersHeartbeatsAndStopsCleanly(_ executable: Executable) async throws {
        let instance = TestEnvironment.unique(executable.service)
        // A Redis of its own: on the run's, another test's Profile going down makes Post and
        // Feed (rightly) degraded, and "ok" is what this test expects of a lone service.
        let redis = try await PrivateRedis.start()
        afterTest { try? await redis.stop() }
        let redisConfig = TestEnvironment.redisConfiguration(url: redis.url)
        let subscriber = RedisSubscriber(configuration: redisConfig, channels: ["health.\(executable.service)"], logger: logger)
        let listening = Task { try await subscriber.run() }
        defer { listening.cancel() }
        let events = EventCollector(subscriber.events)
        #expect(await events.waitFor { $0 == .subscribed } != nil)

        let process = try await ServiceProcess.start(
            executable.name,
            portVariable: executable.portVariable,
            environment: [
                "REDIS_URL": redis.url,
                "DATABASE_URL": TestEnvironment.databaseURL,
                "INSTANCE_ID": instance,
                "HEALTH_INTERVAL_MS": "200",
            ]
        )

        #expect(try await HTTP.get(process.baseURL + "/health/live").status == 200)
        let health = try await HTTP.get(process.baseURL + "/health")
        #expect(health.json?["instance"] == .string(instance))  // this very process answered
        #expect(health.json?["service"] == .string(executable.service))
        #expect(health.json?["status"] == "ok")
        #expect(health.json?["checks"]?["redis"] == "up")
        if executable.usesPostgres { #expect(health.json?["checks"]?["postgres"] == "up") }
        #expect(health.header("x-request-id") != nil)

        let metrics = try await HTTP.get(process.baseURL + "/metrics")
        #expect(metrics.status == 200)
        #expect(PrometheusText.isValid(metrics.text))
        #expect(metrics.text.contains("http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"}"))

        let openAPI = try await HTTP.get(process.baseURL + "/openapi.json")
        #expect(openAPI.json?["openapi"] == "3.1.0")

        let missing = try await HTTP.get(process.baseURL + "/no/such/route")
        #expect(missing.status == 404)
        #expect(missing.header("content-type") == "application/problem+json")

        // Its heartbeat is on the channel, from this very instance.
        func heartbeat(_ status: HealthStatus) -> @Sendable (RedisPubSubEvent) -> Bool {
            { event in
                guard case .message(_, _, let payload) = event,
                    let message = try? JSONDecoder().decode(HealthMessage.self, from: Data(payload))
                else { return false }
                return message.instance == instance && message.status == status && message.source == .self
            }
        }
        #expect(await events.waitFor(heartbeat(.up)) != nil)

        // SIGTERM: it finishes, says `down`, and exits 0.
        process.signal(SIGTERM)
        #expect(await events.waitFor(heartbeat(.down)) != nil)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0, "\(process.log)")
    }

    /// A setting the service cannot use stops it before it binds anything: one line naming
    /// the setting on standard error, exit status 2, for every executable.
    @Test(arguments: Executable.all)
    func anUnusableSettingIsOneLineAndStatusTwo(_ executable: Executable) async throws {
        let process = try ServiceProcess(
            executable: executable.name,
            portVariable: executable.portVariable,
            environment: ["HEALTH_INTERVAL_MS": "1"]
        )
        #expect(await process.waitForExit(timeout: .seconds(15)) == 2)
        #expect(process.log == "\(executable.service): invalid configuration: HEALTH_INTERVAL_MS: 10 to 3600000\n")
    }

    /// A routes file whose one route points at an `ftp://` URL.
    static let nonHTTPRoutesFile: String = {
        let path = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("routes") + ".json"
        try! Data(#"{"routes": [{"prefix": "/x", "service": "x", "urls": ["ftp://h"]}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }()

    /// The services' own settings go the same way, from the builder that reads them.
    @Test(arguments: [
        ("Gateway", "GATEWAY_PORT", ["GATEWAY_RATE_LIMIT": "lots"], "gateway: invalid configuration: "),
        // A routes file that is missing, not JSON, or routes to a non-HTTP URL.
        ("Gateway", "GATEWAY_PORT", ["GATEWAY_ROUTES_FILE": "/nonexistent/routes.json"], "gateway: invalid configuration: "),
        ("Gateway", "GATEWAY_PORT", ["GATEWAY_ROUTES_FILE": "/etc/hostname"], "gateway: invalid configuration: "),
        ("Gateway", "GATEWAY_PORT", ["GATEWAY_ROUTES_FILE": nonHTTPRoutesFile], "gateway: invalid configuration: routes[0].urls"),
        ("RestrictionConsumer", "RESTRICTION_PORT", ["RESTRICTIONS_ROLE": "boss"], "restriction: invalid configuration: "),
    ])
    func anUnusableServiceSettingIsOneLineAndStatusTwo(
        _ name: String,
        _ portVariable: String,
        _ environment: [String: String],
        _ prefix: String
    )
        async throws
    {
        let process = try ServiceProcess(executable: name, portVariable: portVariable, environment: environment)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 2)
        let log = process.log
        #expect(log.hasPrefix(prefix) && log.filter { $0 == "\n" }.count == 1, "\(log)")
    }
}
