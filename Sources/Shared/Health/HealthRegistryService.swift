import Foundation
import Logging
import ServiceLifecycle

/// Feeds a ``HealthRegistry`` from `PSUBSCRIBE health.*` on its own connection and ticks it
/// so silent instances go stale on time.
public struct HealthRegistryService: Service {
    public let registry: HealthRegistry
    private let subscriber: RedisSubscriber
    private let logger: Logger

    public init(registry: HealthRegistry, redis: RedisClient.Configuration, logger: Logger) {
        self.registry = registry
        self.subscriber = RedisSubscriber(configuration: redis, patterns: ["health.*"], logger: logger)
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let decoder = JSONDecoder()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await subscriber.run { event in
                    switch event {
                    case .subscribed:
                        registry.channelRestored()
                    case .disconnected:
                        registry.channelLost()
                    case .message(_, _, let payload):
                        if let message = try? decoder.decode(HealthMessage.self, from: Data(payload)) {
                            registry.ingest(message)
                        }
                    }
                }
            }
            // Tick at a fraction of the interval so staleness is noticed within ~1/4 of it.
            group.addTask { await repeatUntilShutdown(every: registry.interval / 4) { registry.tick() } }
        }
    }
}
