import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Keeps the instance's ``FlagStore`` in step with PostgreSQL and with the other instances.
///
/// - At start it loads every flag and segment, retrying with backoff; until then the
///   instance is not ready.
/// - Every write announces its change on `flags.changes` (kind, name, version); here each
///   instance reads an announced entity it does not have at that version from PostgreSQL
///   and applies it (per-entity versions make order and repeats harmless). A message never
///   carries a definition: whoever can publish on Redis cannot change a flag.
/// - Pub/sub loses what is sent while a subscriber is away, so every (re)subscription and a
///   periodic timer reload everything from PostgreSQL; with PostgreSQL down the instance
///   keeps evaluating from the snapshot it has.
struct FlagSyncService: Service {
    struct Configuration: Sendable {
        /// Full reload period (`FLAGS_RESYNC_MS`, default 10 s): the bound on staleness
        /// when pub/sub messages are lost.
        var resyncInterval: Duration
        /// SSE comment period keeping idle streams open through proxies
        /// (`FLAGS_SSE_KEEPALIVE_MS`, default 15 s).
        var keepAliveInterval: Duration

        init(resyncInterval: Duration = .seconds(10), keepAliveInterval: Duration = .seconds(15)) {
            self.resyncInterval = resyncInterval
            self.keepAliveInterval = keepAliveInterval
        }

        init(environment env: EnvironmentReader) {
            self.init(
                resyncInterval: env.milliseconds("FLAGS_RESYNC_MS", default: .seconds(10)),
                keepAliveInterval: env.milliseconds("FLAGS_SSE_KEEPALIVE_MS", default: .seconds(15))
            )
        }
    }

    static let channel = "flags.changes"

    let store: FlagStore
    let repository: FlagRepository
    let subscriber: RedisSubscriber
    let configuration: Configuration
    let logger: Logger

    init(store: FlagStore, repository: FlagRepository, redis: RedisClient.Configuration, configuration: Configuration, logger: Logger) {
        self.store = store
        self.repository = repository
        self.subscriber = RedisSubscriber(configuration: redis, channels: [Self.channel], logger: logger)
        self.configuration = configuration
        self.logger = logger
    }

    /// The readiness check: the snapshot has been loaded once.
    var healthCheck: HealthCheck {
        HealthCheck(name: "snapshot") { [store] in
            guard store.isLoaded else { throw DependencyUnavailableError(dependency: "snapshot", reason: "flags not loaded yet") }
        }
    }

    func run() async throws {
        let (reloads, requestReload) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    let decoder = JSONDecoder()
                    await subscriber.run { event in
                        switch event {
                        case .subscribed:
                            requestReload.yield()
                        case .disconnected:
                            break
                        case .message(_, _, let payload):
                            guard let notice = try? decoder.decode(ChangeNotice.self, from: Data(payload)) else {
                                logger.warning("unreadable flag change notice")
                                return
                            }
                            if let held = store.snapshot.version(notice.kind, notice.name), held >= notice.version { return }
                            do {
                                if let change = try await repository.load(notice.kind, name: notice.name) { store.apply([change]) }
                            } catch {
                                // The periodic reload catches up.
                                logger.debug("announced flag change not read", metadata: ["flags.key": "\(notice.name)", "error": "\(error)"])
                            }
                        }
                    }
                }
                group.addTask {
                    await loadUntilDone()
                    for await _ in reloads { await reload() }
                }
                group.addTask {
                    await repeatUntilShutdown(every: configuration.resyncInterval) { requestReload.yield() }
                    requestReload.finish()
                }
                group.addTask {
                    await repeatUntilShutdown(every: configuration.keepAliveInterval) { store.keepAlive() }
                }
            }
        } onGracefulShutdown: {
            store.closeSubscribers()
        }
    }

    private func loadUntilDone() async {
        await retryUntilDone(logger: logger, "flags not loaded yet") {
            store.apply(try await repository.loadAll(), fullLoad: true)
            logger.info("flags loaded", metadata: ["flags.count": "\(store.snapshot.flagDefinitions.count)"])
        }
    }

    private func reload() async {
        do {
            let applied = store.apply(try await repository.loadAll(), fullLoad: true)
            if !applied.isEmpty {
                logger.info("flag reload caught up", metadata: ["flags.changes": "\(applied.count)"])
            }
        } catch {
            logger.debug("flag reload failed; serving the snapshot held", metadata: ["error": "\(error)"])
        }
    }
}
