import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle
import Shared
import TestSupport
import Testing

@Suite("Health registry")
struct HealthRegistryTests {
    let clock = TestClock()

    func heartbeat(_ service: String, _ instance: String, _ status: HealthStatus = .up) -> HealthMessage {
        HealthMessage(service: service, instance: instance, status: status, at: 0, url: "http://\(instance)")
    }

    @Test func anInstanceIsDownAfterExactlyThreeSilentIntervals() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        let changes = NIOLockedValueBox<[String]>([])
        registry.observe("profile") { service, availability in changes.withLockedValue { $0.append("\(service):\(availability)") } }
        registry.channelRestored()
        #expect(registry.availability(of: "profile") == .unknown)
        registry.ingest(heartbeat("profile", "a"))
        #expect(registry.availability(of: "profile") == .up)
        clock.advance(by: .milliseconds(1500))
        registry.tick()
        #expect(registry.availability(of: "profile") == .up)  // exactly 3 intervals: not yet
        clock.advance(by: .milliseconds(1))
        registry.tick()
        #expect(registry.availability(of: "profile") == .down)
        #expect(registry.snapshot().first?.instances.first?.stale == true)
        registry.ingest(heartbeat("profile", "a"))
        #expect(registry.availability(of: "profile") == .up)
        #expect(changes.withLockedValue { $0 } == ["profile:up", "profile:down", "profile:up"])
    }

    @Test func oneLiveInstanceKeepsTheServiceUp() {
        let registry = HealthRegistry(interval: .milliseconds(100), clock: clock)
        registry.channelRestored()
        registry.ingest(heartbeat("post", "a"))
        registry.ingest(heartbeat("post", "b"))
        clock.advance(by: .milliseconds(250))
        registry.ingest(heartbeat("post", "b"))
        clock.advance(by: .milliseconds(100))
        registry.tick()
        #expect(registry.availability(of: "post") == .up)  // a is stale, b is not
        #expect(registry.upURLs(of: "post") == ["http://b"])
        registry.ingest(heartbeat("post", "b", .down))  // b shuts down gracefully
        #expect(registry.availability(of: "post") == .down)
    }

    @Test func upURLsAreThoseOfFreshInstancesNotSayingDown() {
        let registry = HealthRegistry(interval: .milliseconds(100), clock: clock)
        func beat(_ instance: String, _ status: HealthStatus = .up, url: String?) {
            registry.ingest(HealthMessage(service: "post", instance: instance, status: status, at: 0, url: url))
        }
        #expect(registry.upURLs(of: "post") == [])  // channel not up yet: nothing is known
        registry.channelRestored()
        beat("b", url: "http://b:1")
        beat("a", url: "http://a:1")
        beat("c", .degraded, url: "http://c:1")
        beat("old", url: nil)  // a sender from before URLs were sent
        #expect(registry.upURLs(of: "post") == ["http://a:1", "http://b:1", "http://c:1"])
        beat("c", .down, url: "http://c:1")
        clock.advance(by: .milliseconds(250))
        beat("b", url: "http://b:1")
        clock.advance(by: .milliseconds(100))  // a is now 350 ms silent: stale
        #expect(registry.upURLs(of: "post") == ["http://b:1"])
        registry.ingest(heartbeat("feed", "f"))  // the reporter is alive
        registry.ingest(HealthMessage(service: "post", instance: "*", status: .down, source: .peer, reporter: "feed", at: 0))
        #expect(registry.upURLs(of: "post") == [])  // a peer's report stands until an up heartbeat
        registry.channelLost()
        #expect(registry.upURLs(of: "post") == [])
    }

    @Test func aPeerReportStandsUntilANewerUpHeartbeat() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        registry.channelRestored()
        registry.ingest(heartbeat("profile", "a"))
        registry.ingest(heartbeat("post", "p"))
        registry.ingest(HealthMessage(service: "profile", instance: "*", status: .down, source: .peer, reporter: "post", at: 0))
        #expect(registry.availability(of: "profile") == .down)
        #expect(registry.snapshot().first { $0.service == "profile" }?.peerReporter == "post")
        registry.ingest(heartbeat("profile", "a", .degraded))  // not `up`: the report stands
        #expect(registry.availability(of: "profile") == .down)
        registry.ingest(heartbeat("profile", "a"))
        #expect(registry.availability(of: "profile") == .up)
    }

    /// Peer reports are anyone's who can publish on Redis: one from a service that is not
    /// alive is ignored, and a report stands for one staleness period at most.
    @Test func peerReportsNeedALiveReporterAndExpire() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        registry.channelRestored()
        registry.ingest(heartbeat("profile", "a"))
        for forged in ["nobody", "profile-clone", ""] {
            registry.ingest(HealthMessage(service: "profile", instance: "*", status: .down, source: .peer, reporter: forged, at: 0))
        }
        registry.ingest(HealthMessage(service: "profile", instance: "*", status: .down, source: .peer, reporter: nil, at: 0))
        #expect(registry.availability(of: "profile") == .up)
        registry.ingest(heartbeat("post", "p"))
        registry.ingest(heartbeat("post", "p", .down))  // a reporter that itself says down is not alive
        registry.ingest(HealthMessage(service: "profile", instance: "*", status: .down, source: .peer, reporter: "post", at: 0))
        #expect(registry.availability(of: "profile") == .up)
        registry.ingest(heartbeat("post", "p"))
        registry.ingest(HealthMessage(service: "profile", instance: "*", status: .down, source: .peer, reporter: "post", at: 0))
        #expect(registry.availability(of: "profile") == .down)
        clock.advance(by: .milliseconds(1000))
        registry.ingest(heartbeat("profile", "a", .degraded))  // not `up`: the report still stands
        #expect(registry.availability(of: "profile") == .down)
        clock.advance(by: .milliseconds(501))  // the report is older than the staleness limit
        #expect(registry.availability(of: "profile") == .up)
    }

    /// Instances silent for `forgetAfter` are dropped, so instance ids that come and go do
    /// not pile up in the registry (or on the dashboard), even with no successor up.
    @Test func silentInstancesAreForgotten() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        registry.channelRestored()
        for index in 0..<100 { registry.ingest(heartbeat("profile", "gone-\(index)")) }
        clock.advance(by: registry.forgetAfter - .milliseconds(1))
        registry.ingest(heartbeat("post", "live"))
        #expect(registry.snapshot().first { $0.service == "profile" }?.instances.count == 100)
        clock.advance(by: .milliseconds(2))
        #expect(registry.snapshot().first { $0.service == "profile" }?.instances == [])
        #expect(registry.snapshot().first { $0.service == "post" }?.instances.map(\.instance) == ["live"])
    }

    /// An instance replaced by a successor (a restart under a new id) leaves after
    /// `replacedAfter` of being down, whether it said `down` or fell silent; with no other
    /// instance up it stays, `down`, for the operator to see.
    @Test func aReplacedInstanceLeavesAfterReplacedAfter() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        registry.channelRestored()
        registry.ingest(heartbeat("profile", "old-said-down", .down))
        registry.ingest(heartbeat("profile", "old-silent"))
        registry.ingest(heartbeat("feed", "alone", .down))
        func instances(_ service: String) -> [String]? {
            registry.snapshot().first { $0.service == service }?.instances.map(\.instance)
        }
        // Its successor comes up; everyone else keeps silent from here.
        registry.ingest(heartbeat("profile", "new"))
        clock.advance(by: registry.replacedAfter)
        registry.ingest(heartbeat("profile", "new"))
        #expect(instances("profile") == ["new", "old-said-down", "old-silent"])
        clock.advance(by: .milliseconds(1))
        registry.ingest(heartbeat("profile", "new"))
        // `old-said-down` has been down for replacedAfter + 1 ms; `old-silent` only since it
        // went stale.
        #expect(instances("profile") == ["new", "old-silent"])
        clock.advance(by: registry.staleAfter)
        registry.ingest(heartbeat("profile", "new"))
        #expect(instances("profile") == ["new"])
        #expect(instances("feed") == ["alone"])
    }

    @Test func aLostChannelConcludesNothingAndRestartsTheClocks() {
        let registry = HealthRegistry(interval: .milliseconds(500), clock: clock)
        let changes = NIOLockedValueBox<[ServiceAvailability]>([])
        registry.observe(nil) { _, availability in changes.withLockedValue { $0.append(availability) } }
        registry.channelRestored()
        registry.ingest(heartbeat("profile", "a"))
        registry.channelLost()
        clock.advance(by: .seconds(60))
        registry.tick()
        #expect(registry.availability(of: "profile") == .unknown)
        registry.channelRestored()
        #expect(registry.availability(of: "profile") == .up)  // not down: it had no chance to heartbeat
        // Its reporter reconnects on its own backoff: staleness plus the grace, exactly.
        clock.advance(by: registry.staleAfter + registry.reconnectGrace)
        registry.tick()
        #expect(registry.availability(of: "profile") == .up)
        #expect(registry.snapshot().first?.instances.first?.age == registry.staleAfter)
        clock.advance(by: .milliseconds(1))
        registry.tick()
        #expect(registry.availability(of: "profile") == .down)  // but silence after that counts
        #expect(changes.withLockedValue { $0 } == [.up, .unknown, .up, .down])
    }
}

@Suite("Health over pub/sub")
struct HealthPubSubTests {
    let logger = TestEnvironment.logger
    let interval = Duration.milliseconds(100)

    /// Runs `services` in a service group for the duration of `body`.
    func running<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let runner = Task { try await group.run() }
        func stop() async {
            await group.triggerGracefulShutdown()
            _ = await runner.result
        }
        do {
            let value = try await body()
            await stop()
            return value
        } catch {
            await stop()
            throw error
        }
    }

    func reporter(_ service: String, redis: RedisClient) -> HealthReporter {
        HealthReporter(
            service: service,
            instance: "\(service)-1",
            checks: [.redis(redis)],
            interval: interval,
            publishingTo: redis,
            logger: logger
        )
    }

    /// With an interval of a minute, only ``HealthReporter/checkSoon()`` can explain the
    /// registry hearing the new status within the test; a breaker transition is what calls it.
    @Test func aStatusChangeIsPublishedAtOnceNotAtTheNextInterval() async throws {
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(), logger: logger)
        let service = TestEnvironment.unique("svc")
        let registry = HealthRegistry(interval: .seconds(60), clock: ContinuousClock())
        let failing = NIOLockedValueBox(false)
        struct Failing: Error {}
        let dependency = HealthCheck(name: "dependency", required: false) {
            if failing.withLockedValue({ $0 }) { throw Failing() }
        }
        let reporter = HealthReporter(
            service: service,
            instance: "x",
            checks: [dependency],
            interval: .seconds(60),
            publishingTo: redis,
            logger: logger
        )
        let board = BreakerBoard(
            caller: service,
            instance: "x",
            redis: nil,
            registry: nil,
            metrics: ServiceMetrics(),
            logger: logger,
            onTransition: { reporter.checkSoon() }
        )
        let breaker = board.breaker(for: "dependency", configuration: .init(minimumCalls: 1))
        func checks() -> [String: HealthStatus]? { registry.snapshot().first { $0.service == service }?.instances.first?.checks }
        try await running([redis, HealthRegistryService(registry: registry, redis: redis.configuration, logger: logger), reporter]) {
            // The first heartbeat may go out before the registry has subscribed; the next
            // would be a minute away, so it is asked for until one is heard.
            #expect(
                await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                    reporter.checkSoon()
                    return checks() == ["dependency": .up]
                }
            )
            failing.withLockedValue { $0 = true }
            // The dependency fails a call: the breaker opens, and the transition wakes the reporter.
            _ = try? await breaker.execute { () async throws -> Int in throw Failing() }
            #expect(breaker.state == .open)
            #expect(await eventually { checks() == ["dependency": .down] })
            #expect(registry.availability(of: service) == .up, "degraded is still up")
        }
    }

    @Test func gracefulShutdownPublishesDown() async throws {
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(), logger: logger)
        let service = TestEnvironment.unique("svc")
        let registry = HealthRegistry(interval: .seconds(60), clock: ContinuousClock())  // staleness cannot explain it
        let reporter = HealthReporter(service: service, instance: "x", checks: [], interval: interval, publishingTo: redis, logger: logger)
        try await running([redis, HealthRegistryService(registry: registry, redis: redis.configuration, logger: logger)]) {
            let group = ServiceGroup(configuration: .init(services: [reporter], logger: logger))
            let runner = Task { try await group.run() }
            #expect(await eventually { registry.availability(of: service) == .up })
            await group.triggerGracefulShutdown()
            _ = await runner.result
            #expect(await eventually { registry.availability(of: service) == .down })
        }
    }

    @Test func aPeerReportOpensTheOtherCallersBreaker() async throws {
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(), logger: logger)
        let dependency = TestEnvironment.unique("profile")
        // The reporting caller heartbeats too: a peer report counts only from a live service.
        let caller = TestEnvironment.unique("post")
        // Registries that would take 30 s to call anything stale: only the peer report can
        // explain B opening.
        let registryA = HealthRegistry(interval: .seconds(10), clock: ContinuousClock())
        let registryB = HealthRegistry(interval: .seconds(10), clock: ContinuousClock())
        let metrics = ServiceMetrics()
        let boardA = BreakerBoard(caller: caller, instance: "p1", redis: redis, registry: registryA, metrics: metrics, logger: logger)
        let boardB = BreakerBoard(caller: "feed", instance: "f1", redis: redis, registry: registryB, metrics: metrics, logger: logger)
        let config = CircuitBreaker.Configuration(minimumCalls: 2, openDuration: .seconds(30))
        let breakerA = boardA.breaker(for: dependency, configuration: config)
        let breakerB = boardB.breaker(for: dependency, configuration: config)
        let callerHealth = HealthReporter(service: caller, instance: "p1", checks: [], interval: interval, publishingTo: redis, logger: logger)
        let dependencyHealth = HealthReporter(
            service: dependency,
            instance: "d1",
            checks: [],
            interval: interval,
            publishingTo: redis,
            logger: logger
        )
        try await running([
            redis,
            HealthRegistryService(registry: registryA, redis: redis.configuration, logger: logger),
            HealthRegistryService(registry: registryB, redis: redis.configuration, logger: logger),
        ]) {
            // The dependency heartbeats, but answers A's calls with failures (say, it is slow).
            let callerBeats = Task { try await callerHealth.run() }
            defer { callerBeats.cancel() }
            let heartbeats = Task { try await dependencyHealth.run() }
            // The first heartbeats under a loaded parallel pass can take longer than the default 10 s.
            #expect(
                await eventually(timeout: .seconds(30)) {
                    registryB.availability(of: dependency) == .up && registryB.availability(of: caller) == .up
                }
            )
            heartbeats.cancel()
            _ = await heartbeats.result
            struct Failed: Error {}
            for _ in 0..<2 { _ = try? await breakerA.execute { () async throws -> Int in throw Failed() } }
            #expect(breakerA.state == .open)
            // B made no call at all, yet opens on A's report.
            // (Deadlines well inside the 30 s open period: only the report or the heartbeat
            // can explain either transition, however loaded the machine is.)
            #expect(await eventually { breakerB.state == .open })
            #expect(registryB.snapshot().first { $0.service == dependency }?.peerReporter == caller)
            // The dependency's next `up` heartbeat lets B probe again before its 30 s are over.
            let restarted = HealthReporter(service: dependency, instance: "d1", checks: [], interval: interval, publishingTo: redis, logger: logger)
            let again = Task { try await restarted.run() }
            #expect(await eventually { breakerB.state == .halfOpen })
            again.cancel()
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains("breaker_transitions_total{caller=\"\(caller)\",dependency=\"\(dependency)\",to=\"open\"} 1"))
        }
    }
}

/// Exclusive (run alone, after the parallel pass): "down within the staleness limit plus a
/// second" and "nothing down while Redis is away" are bounds a busy machine can miss.
@Suite("Health over pub/sub, timed")
struct ExclusiveHealthPubSubTests {
    let base = HealthPubSubTests()

    @Test func losingRedisMarksNoServiceDown() async throws {
        let server = try await PrivateRedis.start()
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(url: server.url), logger: base.logger)
        // Heartbeats every 100 ms, but 1.5 s (3 × 500 ms) of tolerance. In the serial pass: at
        // the start of the parallel one, heartbeats were seen delayed past even that, and a
        // late heartbeat is not what this test is about.
        let registry = HealthRegistry(interval: .milliseconds(500), clock: ContinuousClock())
        let breaker = CircuitBreaker(caller: "post", dependency: "profile", clock: ContinuousClock())
        let seen = NIOLockedValueBox<[ServiceAvailability]>([])
        registry.observe("profile") { _, availability in
            seen.withLockedValue { $0.append(availability) }
            breaker.dependencyAvailabilityChanged(availability)
        }
        let profile = base.reporter("profile", redis: redis)
        try await base.running([redis, HealthRegistryService(registry: registry, redis: redis.configuration, logger: base.logger), profile]) {
            #expect(await eventually { registry.availability(of: "profile") == .up })
            try await server.stop()
            // Far longer than three intervals without heartbeats: still nothing concluded.
            #expect(await eventually { registry.availability(of: "profile") == .unknown })
            try await Task.sleep(for: registry.staleAfter + .milliseconds(500))
            #expect(registry.availability(of: "profile") == .unknown)
            #expect(breaker.state == .closed, "availability went \(seen.withLockedValue { $0 })")
            try await server.start()
            #expect(await eventually { registry.availability(of: "profile") == .up })
            #expect(breaker.state == .closed, "availability went \(seen.withLockedValue { $0 })")
            #expect(seen.withLockedValue { $0 } == [.up, .unknown, .up])
        }
        try await server.stop()
    }

    @Test func heartbeatsReachTheRegistryAndSilenceMarksDown() async throws {
        let redis = RedisClient(configuration: TestEnvironment.redisConfiguration(), logger: base.logger)
        let service = TestEnvironment.unique("svc")
        let registry = HealthRegistry(interval: base.interval, clock: ContinuousClock())
        let reporter = base.reporter(service, redis: redis)
        try await base.running([redis, HealthRegistryService(registry: registry, redis: redis.configuration, logger: base.logger)]) {
            let heartbeats = Task { try await reporter.run() }
            #expect(await eventually { registry.availability(of: service) == .up })
            let view = registry.snapshot().first { $0.service == service }
            #expect(view?.instances.first?.checks == ["redis": .up])
            // SIGKILL-like: the heartbeats stop without a goodbye.
            heartbeats.cancel()
            let stoppedAt = ContinuousClock.now
            #expect(await eventually { registry.availability(of: service) == .down })
            // Down because it was silent for three intervals (the exact boundary is tested
            // under the test clock above), and promptly so.
            let instance = registry.snapshot().first { $0.service == service }?.instances.first
            #expect(instance?.stale == true)
            #expect(instance.map { $0.age > registry.staleAfter } == true)
            #expect(ContinuousClock.now - stoppedAt < registry.staleAfter + .seconds(1))
        }
    }
}
