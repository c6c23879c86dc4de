import CHiredis
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// A pub/sub subscriber on its own connection and its own thread.
///
/// It subscribes to fixed channels and patterns, delivers what arrives as an `AsyncStream`
/// (one consumer), pings an idle connection to notice a dead server, and reconnects with
/// backoff and resubscribes by itself. The blocking hiredis reads run on a dedicated thread,
/// polled in short slices so shutdown is prompt. On a Redis Cluster it subscribes on one node
/// (classic pub/sub reaches every node), moving to the next seed when that node goes.
public final class RedisSubscriber: Service, Sendable {
    public let events: AsyncStream<RedisPubSubEvent>
    private let continuation: AsyncStream<RedisPubSubEvent>.Continuation
    private let configuration: RedisClient.Configuration
    private let channels: [String]
    private let patterns: [String]
    private let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    /// Without traffic for this long, the subscriber pings; without an answer for as long
    /// again, it treats the connection as dead.
    private let idlePing: Duration
    private let deliver: (@Sendable (RedisPubSubEvent) -> Void)?

    /// - Parameter deliver: when given, every event is handed to it on the subscriber's own
    ///   thread instead of to ``events``: for a consumer whose handling never blocks and that
    ///   sees so many messages that a hop to a task per message would cost more than the
    ///   handling (StreamFilter's live feed).
    public init(
        configuration: RedisClient.Configuration,
        channels: [String] = [],
        patterns: [String] = [],
        idlePing: Duration = .seconds(2),
        deliver: (@Sendable (RedisPubSubEvent) -> Void)? = nil,
        logger: Logger
    ) {
        precondition(!channels.isEmpty || !patterns.isEmpty, "subscribe to something")
        self.configuration = configuration
        self.channels = channels
        self.patterns = patterns
        self.idlePing = idlePing
        self.deliver = deliver
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    public func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await thread.runIfActive { self.loop() }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        continuation.finish()
        try? await thread.shutdownGracefully()
    }

    private func stop() {
        stopped.withLockedValue { $0 = true }
    }

    private var isStopped: Bool { stopped.withLockedValue { $0 } }

    private func loop() {
        var attempt = 0
        var announcedDown = false
        // On a cluster, any node hears every PUBLISH (the cluster bus carries it), so the
        // subscriber takes the seeds in turn until one answers.
        let endpoints = configuration.isCluster ? configuration.clusterNodes : [configuration.endpoint]
        var next = 0
        while !isStopped {
            do {
                defer { next += 1 }
                let connection = try RedisConnection(
                    endpoint: endpoints[next % endpoints.count],
                    connectTimeout: configuration.connectTimeout,
                    commandTimeout: configuration.commandTimeout
                )
                defer { connection.close() }
                try subscribe(connection)
                attempt = 0
                announcedDown = false
                try listen(connection)
            } catch {
                if isStopped { break }
                attempt += 1
                if !announcedDown {
                    announcedDown = true
                    logger.warning("subscriber disconnected", metadata: ["error": "\(error)"])
                    emit(.disconnected(reason: String(describing: error)))
                }
                sleepUnlessStopped(configuration.reconnectBackoff.delay(attempt: attempt))
            }
        }
    }

    private func emit(_ event: RedisPubSubEvent) {
        if let deliver { deliver(event) } else { continuation.yield(event) }
    }

    private func subscribe(_ connection: RedisConnection) throws {
        if !channels.isEmpty { try connection.append(RedisCommand(["SUBSCRIBE"] + channels)) }
        if !patterns.isEmpty { try connection.append(RedisCommand(["PSUBSCRIBE"] + patterns)) }
        try connection.flush()
    }

    private func listen(_ connection: RedisConnection) throws {
        let needed = channels.count + patterns.count
        var confirmed = 0
        var lastTraffic = ContinuousClock.now
        var pingSentAt: ContinuousClock.Instant?
        while !isStopped {
            var descriptor = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready < 0 {
                if errno == EINTR { continue }
                throw DependencyUnavailableError(dependency: "redis", reason: "poll failed: errno \(errno)")
            }
            let now = ContinuousClock.now
            if ready > 0 {
                lastTraffic = now
                pingSentAt = nil
                for reply in try connection.readAvailable() {
                    guard let parts = reply.array, let kind = parts.first?.string else { continue }
                    switch kind {
                    case "subscribe", "psubscribe":
                        confirmed += 1
                        if confirmed == needed { emit(.subscribed) }
                    case "message" where parts.count == 3:
                        emit(.message(channel: parts[1].string ?? "", pattern: nil, payload: parts[2].bytes ?? []))
                    case "pmessage" where parts.count == 4:
                        emit(.message(channel: parts[2].string ?? "", pattern: parts[1].string, payload: parts[3].bytes ?? []))
                    default:
                        break
                    }
                }
            } else if let sent = pingSentAt {
                if now - sent > idlePing {
                    throw DependencyUnavailableError(dependency: "redis", reason: "no answer to PING")
                }
            } else if now - lastTraffic > idlePing {
                try connection.append(RedisCommand("PING"))
                try connection.flush()
                pingSentAt = now
            }
        }
    }

    private func sleepUnlessStopped(_ duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while !isStopped, ContinuousClock.now < deadline {
            usleep(20_000)
        }
    }
}
