import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Shared

/// Subscriber filters, the event log, matching, and delivery over WebSocket and SSE.
///
/// The composition root: everything the service runs is made and wired here. By role, an
/// instance serves the API and delivery, runs a filter worker, or both (`STREAM_ROLE`).
/// Filters are held in memory on every instance, so matching and delivery go on with
/// PostgreSQL down (the instance is `degraded`); only filter writes need it.
public func buildApplication(configuration stream: StreamConfiguration) throws -> some ApplicationProtocol {
    let config = stream.service
    var runtime = ServiceRuntime(configuration: config)
    let postgres = runtime.addPostgres(migrating: StreamSchema.migrator, required: false)
    let metrics = StreamMetrics(runtime.metrics)
    let hub = SubscriberHub()
    let store = FilterStore { deleted in hub.close(subscribers: deleted, .filterDeleted) }
    let repository = FilterRepository(postgres: postgres)
    let keys = StreamKeys(partitions: stream.log.partitions)
    let sync = FilterSyncService(
        store: store,
        repository: repository,
        redis: config.redis,
        resyncInterval: stream.resyncInterval,
        logger: runtime.logger
    )
    runtime.health.add(sync.healthCheck)
    let redis = runtime.redis
    runtime.health.addDetail("partitions") { try await FilterWorker.lag(redis: redis, keys: keys) }

    let router = runtime.makeRouter(openAPI: StreamOpenAPI.document)
    let reads = router.group().add(middleware: StreamAccess.Middleware(access: stream.access, write: false, verifier: runtime.keys))
    let writes = router.group().add(middleware: StreamAccess.Middleware(access: stream.access, write: true, verifier: runtime.keys))
    let webSockets = Router(context: StreamWebSocketContext.self)
    var services: [any Service] = [sync]
    if stream.role != .worker {
        let batcher = RedisBatcher(redis: redis, configuration: stream.ingestBatching)
        services.append(batcher)
        FilterAPI(store: store, repository: repository, redis: redis, logger: runtime.logger).register(reads: reads, writes: writes)
        EventAPI(log: EventLog(redis: redis, batcher: batcher, keys: keys, configuration: stream.log)).register(on: reads)
        let delivery = DeliveryAPI(
            store: store,
            hub: hub,
            stream: SubscriberStream(redis: redis),
            access: stream.access,
            verifier: runtime.keys,
            metrics: metrics,
            configuration: stream.delivery
        )
        delivery.registerEventStream(on: reads)
        delivery.registerWebSocket(on: webSockets)
        router.get("/ws/:subscriber_id") { _, _ -> Response in
            throw ProblemDetails(status: .upgradeRequired, type: "/problems/upgrade-required", detail: "this route takes a WebSocket upgrade")
        }
        services.append(LiveFeed(hub: hub, redis: config.redis, keepAliveInterval: stream.keepAliveInterval, logger: runtime.logger))
        metrics.track(hub, on: runtime.metrics)
    }
    if stream.role != .api {
        services.append(
            FilterWorker(
                id: config.instance,
                redis: redis,
                store: store,
                keys: keys,
                configuration: stream.worker,
                metrics: metrics,
                logger: runtime.logger
            )
        )
    }
    runtime.logger.info("stream", metadata: ["stream.role": "\(stream.role.rawValue)", "stream.partitions": "\(keys.partitions)"])
    return runtime.makeApplication(
        router: router,
        server: { [webSocketResponder = webSockets.buildResponder(), pingInterval = stream.pingInterval] responder, http1 in
            HTTP1WebSocketUpgradeChannel(
                responder: responder,
                webSocketResponder: webSocketResponder,
                configuration: .init(http1: http1, ws: .init(maxFrameSize: 64 * 1024, autoPing: .enabled(timePeriod: pingInterval)))
            )
        },
        services: services
    )
}
