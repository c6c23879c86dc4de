import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Keeps the instance's ``FilterStore`` in step with PostgreSQL and the other instances.
///
/// At start it loads every filter, retrying with backoff; until then the instance is not
/// ready and its workers match nothing. Every write announces its change on
/// `stream.filters`; each instance reads an announced filter it does not hold at that
/// version from PostgreSQL. Pub/sub loses what is sent while a subscriber is away, so every
/// (re)subscription and a periodic timer reload everything; with PostgreSQL down the
/// instance goes on matching with the filters it holds.
struct FilterSyncService: Service {
    static let channel = "stream.filters"

    let store: FilterStore
    let repository: FilterRepository
    let subscriber: RedisSubscriber
    let resyncInterval: Duration
    let logger: Logger

    init(store: FilterStore, repository: FilterRepository, redis: RedisClient.Configuration, resyncInterval: Duration, logger: Logger) {
        self.store = store
        self.repository = repository
        self.subscriber = RedisSubscriber(configuration: redis, channels: [Self.channel], logger: logger)
        self.resyncInterval = resyncInterval
        self.logger = logger
    }

    /// The readiness check: the filters have been loaded once.
    var healthCheck: HealthCheck {
        HealthCheck(name: "filters") { [store] in
            guard store.isLoaded else { throw DependencyUnavailableError(dependency: "filters", reason: "filters not loaded yet") }
        }
    }

    func run() async throws {
        let (reloads, requestReload) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
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
                        guard let notice = try? decoder.decode(FilterChangeNotice.self, from: Data(payload)) else {
                            logger.warning("unreadable filter change notice")
                            return
                        }
                        if let held = store.version(notice.subscriberID), held >= notice.version { return }
                        do {
                            if let record = try await repository.load(notice.subscriberID) { store.apply([record]) }
                        } catch {
                            logger.debug(
                                "announced filter change not read; the next reload catches up",
                                metadata: ["stream.subscriber": "\(notice.subscriberID)", "error": "\(error)"]
                            )
                        }
                    }
                }
            }
            group.addTask {
                await retryUntilDone(logger: logger, "filters not loaded yet") {
                    store.apply(try await repository.loadAll(), fullLoad: true)
                    logger.info("filters loaded", metadata: ["stream.filters": "\(store.list().records.count)"])
                }
                for await _ in reloads {
                    do {
                        let changed = store.apply(try await repository.loadAll(), fullLoad: true)
                        if !changed.isEmpty { logger.info("filter reload caught up", metadata: ["stream.changes": "\(changed.count)"]) }
                    } catch {
                        logger.debug("filter reload failed; matching with the filters held", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                await repeatUntilShutdown(every: resyncInterval) { requestReload.yield() }
                requestReload.finish()
            }
        }
    }
}
