import AsyncHTTPClient
import FlagCore
import Foundation
import NIOCore
import Shared

/// bench/flags.sh's measuring half.
///
/// `FlagBench evaluate [SECONDS]`: evaluations per second on one thread (one core) of a flag
/// with ten targeting rules, none of which match, so every evaluation walks all ten and
/// then hashes the user for the 50% fallthrough.
///
/// `FlagBench evaluate SECONDS KIND` puts ten rules of one kind (0 `in`, 1 `eq`, 2 `gt`,
/// 3 `ends_with`, 4 `semver_lt`) on the flag; `FlagBench hash` times the bucket hash alone.
///
/// `FlagBench propagate WRITES ADMIN_KEY URL...`: for each write to the first instance, the
/// time from its 2xx until every instance answers with the new value; prints p50/p99/max.

func evaluate(seconds: Double, only: Int? = nil) throws {
    let rules: [JSONValue] = (0..<10).map { index in
        let condition: JSONValue =
            switch only ?? (index % 5) {
            case 0: ["attribute": "country", "operator": "in", "values": ["DE", "FR", "NL", .string("X\(index)")]]
            case 1: ["attribute": "plan", "operator": "eq", "values": .array([.string("enterprise\(index)")])]
            case 2: ["attribute": "age", "operator": "gt", "values": [.number(Double(100 + index))]]
            case 3: ["attribute": "email", "operator": "ends_with", "values": ["@corp.example"]]
            default: ["attribute": "app_version", "operator": "semver_lt", "values": ["1.0.0"]]
            }
        return ["conditions": [condition], "serve": ["enabled": true]]
    }
    let flag = try FlagDefinition(json: ["flag_name": "bench_flag", "rollout_percentage": 50, "rules": .array(rules)])
    let change = EntityChange(kind: .flag, name: flag.name, version: 1, deleted: false, definition: flag.json, createdAt: "", updatedAt: "")
    let snapshot = FlagSnapshot.empty.applying([change], logger: nil).0
    let evaluator = FlagEvaluator(snapshot: snapshot)
    let users = (0..<1024).map { "user-\($0)" }
    let attributes: [String: JSONValue] = ["country": "US", "plan": "free", "age": 30, "email": "ann@home.example", "app_version": "2.3.1"]
    let contexts = users.map { EvaluationContext(targetingKey: $0, attributes: attributes) }
    var enabled = 0
    var count = 0
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int64(seconds * 1000))
    while clock.now < deadline {
        for context in contexts where try evaluator.evaluate("bench_flag", context: context).enabled {
            enabled += 1
        }
        count += contexts.count
    }
    let elapsed = (clock.now - start).seconds
    print(
        String(format: "evaluations/s (one thread, 10 rules): %.0f  (enabled share %.3f)", Double(count) / elapsed, Double(enabled) / Double(count))
    )
}

func propagate(writes: Int, key: String, urls: [String]) async throws {
    let client = HTTPClient.shared
    var delays: [Double] = []
    for round in 0..<writes {
        let rollout = round % 2 == 0 ? 100 : 0
        var request = HTTPClientRequest(url: urls[0] + "/flags/bench_flag")
        request.method = .PUT
        request.headers.add(name: "X-Api-Key", value: key)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "{\"rollout_percentage\": \(rollout)}"))
        let response = try await client.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw CancellationError() }
        let written = ContinuousClock.now
        let expected = rollout == 100 ? "\"enabled\":true" : "\"enabled\":false"
        let delay = try await withThrowingTaskGroup(of: Duration.self) { group in
            for url in urls {
                group.addTask {
                    while true {
                        let response = try await client.execute(HTTPClientRequest(url: url + "/users/u1/flags/bench_flag"), timeout: .seconds(5))
                        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                        if body.contains(expected) { return ContinuousClock.now - written }
                    }
                }
            }
            var slowest = Duration.zero
            for try await delay in group { slowest = max(slowest, delay) }
            return slowest
        }
        delays.append(delay.seconds * 1000)
    }
    delays.sort()
    func percentile(_ p: Double) -> Double { delays[min(delays.count - 1, Int(Double(delays.count) * p))] }
    print(
        String(
            format: "propagation to all %d instances over %d writes: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
            urls.count,
            writes,
            percentile(0.5),
            percentile(0.99),
            delays.last!
        )
    )
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "evaluate":
    try evaluate(seconds: arguments.dropFirst().first.flatMap(Double.init) ?? 5, only: arguments.dropFirst(2).first.flatMap { Int($0) })
case "hash":
    let clock = ContinuousClock()
    var sum = 0
    let start = clock.now
    for index in 0..<1_000_000 { sum &+= Bucketing.bucket(key: "user-\(index & 1023)", flag: "bench_flag") }
    print("bucket ns:", (clock.now - start).seconds * 1000, sum)
    let users = (0..<1024).map { "user-\($0)" }
    let start2 = clock.now
    for index in 0..<1_000_000 { sum &+= Bucketing.bucket(key: users[index & 1023], flag: "bench_flag") }
    print("bucket ns (no string building):", (clock.now - start2).seconds * 1000, sum)
case "propagate":
    let rest = Array(arguments.dropFirst())
    try await propagate(writes: Int(rest[0])!, key: rest[1], urls: Array(rest[2...]))
default:
    print("usage: FlagBench evaluate [SECONDS [KIND]] | hash | propagate WRITES ADMIN_KEY URL...")
}
