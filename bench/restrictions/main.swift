import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RestrictionCore
import Shared

/// bench/restrictions.sh's measuring half.
///
/// `RestrictionBench consume REDIS_URL EVENTS [CONSUMERS [CLUSTER_NODES]]`: loads EVENTS
/// events (500 users, the four kinds mixed), then runs CONSUMERS consumers (default 1; the
/// service's own `EventConsumer`, each with a client of its own, as separate instances have)
/// until all are applied; prints events applied per second. With CLUSTER_NODES
/// (`host:port,…`) against that Redis Cluster, in the service's cluster layout.
///
/// `RestrictionBench lag REDIS_URL API_URL RATE SECONDS`: keeps RATE events/s flowing into
/// the stream and, every 20 ms, posts a user's second scam flag through the API and times
/// until `GET /canmessage` says false; prints p50/p99.

let logger = {
    // The consumers' notices (a cancelled step at the end of each run) are not results.
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

func events(_ count: Int, offset: Int = 0) -> [IncomingEvent] {
    (0..<count).map { index in
        let user = "user-\((index + offset) % 500)"
        switch index % 4 {
        case 0: return IncomingEvent(name: "purchase_made", userID: user, fields: [("amount", "\(index % 90 + 10)")])
        case 1: return IncomingEvent(name: "credit_card_added", userID: user, fields: [("card_id", "c\(index % 3)"), ("zip_code", "z\(index % 2)")])
        case 2: return IncomingEvent(name: "chargeback_occurred", userID: user, fields: [("amount", "1")])
        default: return IncomingEvent(name: "scam_message_flagged", userID: "flagged-\(index + offset)")
        }
    }
}

func redis(_ url: String, clusterNodes: String? = nil) -> RedisClient {
    var configuration = RedisClient.Configuration(environment: EnvironmentReader(["REDIS_URL": url, "REDIS_CLUSTER_NODES": clusterNodes ?? ""]))
    configuration.commandTimeout = .seconds(5)
    return RedisClient(configuration: configuration, logger: logger)
}

func consume(url: String, count: Int, consumers: Int, clusterNodes: String?) async throws {
    let keys = RestrictionKeys.service(cluster: clusterNodes != nil)
    func applier(_ client: RedisClient) -> EventApplier {
        EventApplier(redis: client, keys: keys, group: "restrictions", rules: .defaults, tripwire: .init(minimumUsers: 1_000_000))
    }
    let client = redis(url, clusterNodes: clusterNodes)
    let log = EventLog(redis: client, keys: keys, configuration: .init(maxLength: count * 2))
    for start in stride(from: 0, to: count, by: 1000) {
        _ = try await log.append(events(min(1000, count - start), offset: start), receivedAt: 0)
    }
    let clients = (0..<consumers).map { _ in redis(url, clusterNodes: clusterNodes) }
    let reader = RestrictionReader(redis: client, applier: applier(client))
    let start = ContinuousClock.now
    let tasks = clients.enumerated().map { index, consumerClient in
        let consumer = EventConsumer(
            redis: consumerClient,
            applier: applier(consumerClient),
            configuration: .init(name: "bench-\(index)"),
            time: WallTime(ContinuousClock()),
            metrics: RestrictionMetrics(ServiceMetrics()),
            logger: logger
        )
        return Task { try await consumer.run() }
    }
    while try await reader.stream().applied < count { try await Task.sleep(for: .milliseconds(20)) }
    let elapsed = (ContinuousClock.now - start).seconds
    for task in tasks { task.cancel() }
    let partitions = keys.partitions.count
    print(
        String(format: "consumer: %d events applied in %.2f s: %.0f events/s", count, elapsed, Double(count) / elapsed)
            + " (\(consumers) consumer\(consumers == 1 ? "" : "s"), \(partitions) partition\(partitions == 1 ? "" : "s"), batches of 256)"
    )
    for task in tasks { _ = await task.result }
    for consumerClient in clients { await consumerClient.shutdown() }
    await client.shutdown()
}

func lag(url: String, api: String, rate: Int, seconds: Double) async throws {
    let client = redis(url)
    let log = EventLog(redis: client, keys: RestrictionKeys(), configuration: .init())
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    let load = Task {
        // RATE events/s in slices of 10 ms.
        var sent = 0
        let start = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let due = Int((ContinuousClock.now - start).seconds * Double(rate))
            if due > sent {
                _ = try await log.append(events(due - sent, offset: 1_000_000 + sent), receivedAt: 0)
                sent = due
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return sent
    }
    let http = HTTPClient.shared
    func post(_ user: String) async throws {
        var request = HTTPClientRequest(url: api + "/event")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"name":"scam_message_flagged","event_properties":{"user_id":"\#(user)"}}"#))
        let response = try await http.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .ok else { throw CancellationError() }
    }
    var lags: [Double] = []
    var probe = 0
    while ContinuousClock.now < deadline {
        probe += 1
        let user = "probe-\(probe)"
        try await post(user)
        try await post(user)
        let posted = ContinuousClock.now
        while true {
            let response = try await http.execute(HTTPClientRequest(url: api + "/canmessage?user_id=\(user)"), timeout: .seconds(5))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            if body.contains("false") { break }
        }
        lags.append((ContinuousClock.now - posted).seconds * 1000)
        try await Task.sleep(for: .milliseconds(20))
    }
    let sent = try await load.value
    lags.sort()
    func percentile(_ p: Double) -> Double { lags[min(lags.count - 1, Int(Double(lags.count) * p))] }
    print(
        String(
            format: "lag post → restriction visible at %d events/s (%d sent, %d probes): p50 %.2f ms, p99 %.2f ms",
            rate,
            sent,
            lags.count,
            percentile(0.5),
            percentile(0.99)
        )
    )
    await client.shutdown()
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "consume":
    try await consume(
        url: arguments[1],
        count: Int(arguments[2])!,
        consumers: arguments.count > 3 ? Int(arguments[3])! : 1,
        clusterNodes: arguments.count > 4 ? arguments[4] : nil
    )
case "lag":
    try await lag(url: arguments[1], api: arguments[2], rate: Int(arguments[3])!, seconds: Double(arguments[4])!)
default:
    print("usage: RestrictionBench consume REDIS_URL EVENTS [CONSUMERS [CLUSTER_NODES]] | lag REDIS_URL API_URL RATE SECONDS")
}
