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
        self.subscriber = RedisSubscriber(configuration: redis, patterns: [StreamKeys.livePattern], logger: logger)
        self.keepAliveInterval = keepAliveInterval
        self.logger = logger
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await subscriber.run { event in
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
                }
                group.addTask {
                    await repeatUntilShutdown(every: keepAliveInterval) { hub.keepAlive(.eventStream) }
                }
            }
        } onGracefulShutdown: {
            hub.closeAll(.shutdown)
        }
    }
}
