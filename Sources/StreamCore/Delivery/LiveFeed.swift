import Logging
import ServiceLifecycle
import Shared

/// The instance's one subscription to every subscriber's live channel: hands each routed
/// event to the subscriber's connections here, and after every (re)subscription has every
/// connection read what it may have missed. It also sends the event streams' keep-alives,
/// and on graceful shutdown closes every connection (1001: resume elsewhere).
struct LiveFeed: Service {
    let hub: SubscriberHub
    let subscriber: RedisSubscriber
    let keepAliveInterval: Duration
    let logger: Logger

    init(hub: SubscriberHub, redis: RedisClient.Configuration, keepAliveInterval: Duration, logger: Logger) {
        self.hub = hub
        // Handed over on the subscriber's thread: handing a message to the connections'
        // queues never blocks, and a hop to a task per message cost more than the handling.
        self.subscriber = RedisSubscriber(
            configuration: redis,
            patterns: [StreamKeys.livePattern],
            deliver: { event in Self.handle(event, hub: hub, logger: logger) },
            logger: logger
        )
        self.keepAliveInterval = keepAliveInterval
        self.logger = logger
    }

    static func handle(_ event: RedisPubSubEvent, hub: SubscriberHub, logger: Logger) {
        switch event {
        case .subscribed:
            hub.catchUpAll()
        case .disconnected:
            break
        case .message(let channel, _, let payload):
            guard let subscriber = StreamKeys.subscriber(ofLive: channel), let message = LiveMessage(published: payload) else {
                logger.debug("unreadable live message", metadata: ["stream.channel": "\(channel)"])
                return
            }
            hub.deliver(message, to: subscriber)
        }
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { try? await subscriber.run() }
                group.addTask {
                    await repeatUntilShutdown(every: keepAliveInterval) { hub.keepAlive(.eventStream) }
                }
            }
        } onGracefulShutdown: {
            hub.closeAll(.shutdown)
        }
    }
}
