// RedisBench: round trips through the Shared Redis client, the way redis-benchmark makes
// them, so the two can be compared in one run against one server.
//
//   RedisBench --port P [--concurrency 32] [--requests 200000] [--pipeline 1] [--pool 32] [--command set|get]
//              [--cluster host:port,…] [--keyspace N] [--batched FLUSHERS]
//
// `--cluster` seeds a Redis Cluster client (pool per node); `--keyspace N` spreads the keys over
// `key:0` … `key:N-1` as `redis-benchmark -r N` does, so a cluster's nodes all take a share.
// `--batched F` sends the calls (singles or pipelines) through a `RedisBatcher` of F flushers,
// as a service's hot path does (RestrictionConsumer's and StreamFilter's ingest, the gateway's
// rate limits), so concurrent callers share round trips.
// Prints one line: `<command> pipeline=<n> ops/s=<x> p50_ms=<y> p99_ms=<z>`.
import Foundation
import Logging
import Shared

func argument(_ name: String, default value: Int) -> Int {
    guard let index = CommandLine.arguments.firstIndex(of: "--" + name), index + 1 < CommandLine.arguments.count else { return value }
    return Int(CommandLine.arguments[index + 1]) ?? value
}

let port = argument("port", default: 6379)
let concurrency = argument("concurrency", default: 32)
let requests = argument("requests", default: 200_000)
let pipelineDepth = argument("pipeline", default: 1)
let pool = argument("pool", default: concurrency)
let command = CommandLine.arguments.firstIndex(of: "--command").map { CommandLine.arguments[$0 + 1] } ?? "set"
let clusterNodes = CommandLine.arguments.firstIndex(of: "--cluster").map { CommandLine.arguments[$0 + 1] } ?? ""
let keyspace = argument("keyspace", default: 0)
let flushers = argument("batched", default: 0)

var logger = Logger(label: "bench")
logger.logLevel = .error
let client = RedisClient(
    configuration: .init(
        endpoint: RedisEndpoint(port: port),
        poolSize: pool,
        clusterNodes: RedisClient.Configuration.clusterNodes(clusterNodes, credentials: RedisEndpoint()) ?? []
    ),
    logger: logger
)
let batcher = flushers > 0 ? RedisBatcher(redis: client, configuration: .init(flushers: flushers)) : nil
let batching = batcher.map { batcher in Task { try await batcher.run() } }
let value = [UInt8](repeating: 0x78, count: 3)  // redis-benchmark's default 3-byte payload
try await client.set("key:__rand_int__", value)
/// The key of one call: redis-benchmark's fixed key, or with a keyspace a random one in it,
/// drawn as cheaply as redis-benchmark draws it (`random()`), not from the system generator
/// (a `getrandom` call each).
@Sendable func key() -> String { keyspace > 0 ? "key:\(Int(Foundation.random()) % keyspace)" : "key:__rand_int__" }

// Warm up every connection before timing.
try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<pool { group.addTask { try await client.ping() } }
    try await group.waitForAll()
}

let perTask = requests / concurrency / pipelineDepth
let start = ContinuousClock.now
let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
    for _ in 0..<concurrency {
        group.addTask {
            var samples: [Duration] = []
            samples.reserveCapacity(perTask)
            func make() -> RedisCommand { command == "get" ? RedisCommand("GET", key()) : RedisCommand("SET", key(), value) }
            var single = make()
            var batch = (0..<pipelineDepth).map { _ in make() }
            for _ in 0..<perTask {
                if keyspace > 0 {
                    single = make()
                    batch = (0..<pipelineDepth).map { _ in make() }
                }
                let began = ContinuousClock.now
                if let batcher, pipelineDepth == 1 {
                    _ = try await batcher.send(single)
                } else if let batcher {
                    _ = try await batcher.pipeline(batch)
                } else if pipelineDepth == 1 {
                    _ = try await client.send(single)
                } else {
                    _ = try await client.pipeline(batch)
                }
                samples.append(ContinuousClock.now - began)
            }
            return samples
        }
    }
    var all: [Duration] = []
    for try await part in group { all += part }
    return all.sorted()
}
let elapsed = ContinuousClock.now - start
batching?.cancel()
_ = await batching?.result
await client.shutdown()

let operations = Double(perTask * concurrency * pipelineDepth)
func percentile(_ p: Double) -> Double {
    latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))].seconds * 1000
}
print(
    String(
        format: "%@ pipeline=%d ops/s=%.0f p50_ms=%.3f p99_ms=%.3f",
        command.uppercased(),
        pipelineDepth,
        operations / elapsed.seconds,
        percentile(0.5),
        percentile(0.99)
    )
)
