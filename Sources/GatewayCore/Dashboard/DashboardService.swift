import Logging
import ServiceLifecycle
import Shared

/// Feeds the ``DashboardBoard`` from `PSUBSCRIBE breaker.* tripwire.*` (services come from
/// the runtime's health registry) and nudges viewers every `refresh`, so heartbeat ages move
/// on screen between transitions.
struct DashboardService: Service {
    let board: DashboardBoard
    let subscriber: RedisSubscriber
    let refresh: Duration

    init(board: DashboardBoard, redis: RedisClient.Configuration, refresh: Duration = .seconds(1), logger: Logger) {
        self.board = board
        self.subscriber = RedisSubscriber(configuration: redis, patterns: ["breaker.*", "tripwire.*"], logger: logger)
        self.refresh = refresh
    }

    func run() async throws {
        let board = self.board
        await withDiscardingTaskGroup { group in
            group.addTask {
                await subscriber.run { event in
                    if case .message(let channel, _, let payload) = event { board.ingest(channel: channel, payload: payload) }
                }
            }
            group.addTask {
                await repeatUntilShutdown(every: refresh) { board.touch() }
                board.finishAll()
            }
        }
    }
}
