import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Runs the instance's dependency checks and publishes its heartbeat.
///
/// Every interval it runs the checks (concurrently, each bounded by the interval or one
/// second, whichever is longer), publishes `source:self` on `health.<service>`, publishes at
/// once when its status changes, and publishes `down` on graceful shutdown. The latest result
/// backs `/health`, `/health/ready` and the heartbeat, so the endpoints cost no I/O.
public final class HealthReporter: Service, Sendable {
    public struct Snapshot: Sendable {
        public var status: HealthStatus
        public var ready: Bool
        public var checks: [String: HealthStatus]
        /// Why a check failed, for logs and `/health/ready` (no secrets: reasons are our own).
        public var failures: [String: String]
    }

    public let service: String
    public let instance: String
    public let version: String
    public let url: String?
    private let checks: NIOLockedValueBox<[HealthCheck]>
    private let interval: Duration
    private let redis: RedisClient?
    private let logger: Logger
    private let state: NIOLockedValueBox<Snapshot?> = .init(nil)
    private let shuttingDown = NIOLockedValueBox(false)
    private let details = NIOLockedValueBox<[(String, @Sendable () async throws -> JSONValue)]>([])
    /// Set by ``checkSoon()``: the loop's nap ends and the checks run now.
    private let woken = NIOLockedValueBox(false)

    public init(
        service: String,
        instance: String,
        version: String = SuiteVersion.current,
        url: String? = nil,
        checks: [HealthCheck],
        interval: Duration,
        publishingTo redis: RedisClient?,
        logger: Logger
    ) {
        self.service = service
        self.instance = instance
        self.version = version
        self.url = url
        self.checks = NIOLockedValueBox(checks)
        self.interval = interval
        self.redis = redis
        self.logger = logger
    }

    /// Adds a check, for dependencies wired after the reporter was made (a breaker).
    public func add(_ check: HealthCheck) {
        checks.withLockedValue { $0.append(check) }
    }

    /// Adds a member `name` to `GET /health` (not to heartbeats), read when it is asked
    /// for: a service's own state worth seeing there, e.g. StreamFilter's partition lag.
    /// A provider that fails shows `{"error": …}`.
    public func addDetail(_ name: String, _ provider: @escaping @Sendable () async throws -> JSONValue) {
        details.withLockedValue { $0.append((name, provider)) }
    }

    /// Every detail, read now.
    public func readDetails() async -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (name, provider) in details.withLockedValue({ $0 }) {
            do {
                result[name] = try await provider()
            } catch {
                result[name] = ["error": .string(String(describing: error))]
            }
        }
        return result
    }

    /// The latest snapshot, running the checks first if none ran yet.
    public func current() async -> Snapshot {
        if let snapshot = state.withLockedValue({ $0 }) { return snapshot }
        return await refresh()
    }

    /// Runs every check now and stores the result.
    @discardableResult
    public func refresh() async -> Snapshot {
        let timeout = max(interval, .seconds(1))
        let checks = self.checks.withLockedValue { $0 }
        let results = await withTaskGroup(of: (String, String?).self) { group in
            for check in checks {
                group.addTask {
                    (check.name, await Self.run(check.probe, timeout: timeout))
                }
            }
            var results: [String: String?] = [:]
            for await (name, failure) in group { results[name] = failure }
            return results
        }
        var snapshot = Snapshot(status: .up, ready: true, checks: [:], failures: [:])
        for check in checks {
            if let failure = results[check.name] ?? nil {
                snapshot.checks[check.name] = .down
                snapshot.failures[check.name] = failure
                snapshot.status = .degraded
                if check.required { snapshot.ready = false }
            } else {
                snapshot.checks[check.name] = .up
            }
        }
        if shuttingDown.withLockedValue({ $0 }) {
            snapshot.status = .down
            snapshot.ready = false
        }
        state.withLockedValue { $0 = snapshot }
        return snapshot
    }

    /// Runs the checks now instead of at the next interval, and publishes at once if the
    /// status changed: for something the service knows has just changed (a breaker of a
    /// check moved), so callers and the dashboard need not wait an interval to hear it.
    public func checkSoon() {
        woken.withLockedValue { $0 = true }
    }

    public func run() async throws {
        var lastPublished: HealthStatus?
        var lastPublishTime = ContinuousClock.now - interval
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !shuttingDown.withLockedValue({ $0 }) {
                woken.withLockedValue { $0 = false }
                let snapshot = await refresh()
                let now = ContinuousClock.now
                if snapshot.status != lastPublished || now - lastPublishTime >= interval {
                    if snapshot.status != lastPublished {
                        logger.info(
                            "health status",
                            metadata: [
                                "health.status": "\(snapshot.status.rawValue)",
                                "health.failures": "\(snapshot.failures)",
                            ]
                        )
                    }
                    await publish(snapshot.status, checks: snapshot.checks)
                    lastPublished = snapshot.status
                    lastPublishTime = now
                }
                // Short naps so graceful shutdown and ``checkSoon()`` are noticed within 50 ms,
                // not a whole interval.
                while ContinuousClock.now < lastPublishTime + interval, !shuttingDown.withLockedValue({ $0 }), !woken.withLockedValue({ $0 }),
                    !Task.isCancelled
                {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        } onGracefulShutdown: {
            self.shuttingDown.withLockedValue { $0 = true }
        }
        // Graceful shutdown: say so, so callers open their breakers at once. A cancelled
        // reporter (a crash, as far as anyone can tell) just goes silent.
        guard shuttingDown.withLockedValue({ $0 }) else { return }
        state.withLockedValue {
            $0?.status = .down
            $0?.ready = false
        }
        await publish(.down, checks: state.withLockedValue { $0?.checks ?? [:] })
    }

    private func publish(_ status: HealthStatus, checks: [String: HealthStatus]) async {
        guard let redis else { return }
        let message = HealthMessage(
            service: service,
            instance: instance,
            status: status,
            checks: checks,
            at: Int64(Date().timeIntervalSince1970 * 1000),
            version: version,
            url: url
        )
        do {
            try await redis.publish(HealthMessage.channel(for: service), try JSONEncoder().encode(message).bytes)
        } catch {
            logger.debug("heartbeat not published", metadata: ["error": "\(error)"])
        }
    }

    /// Bounded for real: a probe stuck in a blocking call is abandoned at the deadline
    /// rather than awaited, so one frozen dependency cannot stall the heartbeat.
    private static func run(_ probe: @escaping @Sendable () async throws -> Void, timeout: Duration) async -> String? {
        let pending = NIOLockedValueBox<CheckedContinuation<String?, Never>?>(nil)
        let finish: @Sendable (String?) -> Void = { outcome in
            pending.withLockedValue { continuation in
                continuation?.resume(returning: outcome)
                continuation = nil
            }
        }
        return await withCheckedContinuation { continuation in
            pending.withLockedValue { $0 = continuation }
            Task {
                do {
                    try await probe()
                    finish(nil)
                } catch {
                    finish(String(describing: error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                finish("timed out after \(timeout)")
            }
        }
    }
}

extension Data {
    var bytes: [UInt8] { Array(self) }
}
