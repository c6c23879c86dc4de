import Logging
import ServiceLifecycle
import Shared

/// Feeds the ``DashboardBoard`` from `PSUBSCRIBE breaker.* tripwire.*` (services come from
/// the runtime's health registry) and nudges viewers every `refresh`, so heartbeat ages move
/// on screen between transitions.
public struct DashboardService: Service {
    let board: DashboardBoard
    let subscriber: RedisSubscriber
    let refresh: Duration

    public init(board: DashboardBoard, redis: RedisClient.Configuration, refresh: Duration = .seconds(1), logger: Logger) {
        self.board = board
        self.subscriber = RedisSubscriber(configuration: redis, patterns: ["breaker.*", "tripwire.*"], logger: logger)
        self.refresh = refresh
    }

    public func run() async throws {
        let board = self.board
        await withDiscardingTaskGroup { group in
            group.addTask { try? await subscriber.run() }
            group.addTask {
                for await event in subscriber.events {
                    if case .message(let channel, _, let payload) = event { board.ingest(channel: channel, payload: payload) }
                }
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try await Task.sleep(for: refresh)
                        board.touch()
                    }
                }
                board.finishAll()
            }
        }
    }
}
