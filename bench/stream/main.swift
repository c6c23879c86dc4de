import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Shared
import StreamCore

/// bench/stream.sh's measuring half.
///
/// `StreamBench match FILTERS`: matching on one core, the index against a scan of every
/// filter, in alternating rounds (filters: each wants 1 to 2 event types and 3 of 50,000
/// items, a quarter also a tier and a minimum amount; events: a random item and type).
///
/// `StreamBench filters URL CLIENTS`: creates `s0`…`s<CLIENTS-1>`, each wanting the events
/// of its group (`properties.group == "g<i % 1000>"`), so an event reaches CLIENTS/1000
/// subscribers.
///
/// `StreamBench bare PORT CLIENTS`: the ceiling: a bare hummingbird-websocket server with the same
/// `/ws/{id}` and a `POST /events` that sends each event of a batch to the same subscribers,
/// through one queue per connection, as the service does.
///
/// `StreamBench drive URL CLIENTS RATE SECONDS SERVER_PID`: connects CLIENTS WebSocket clients
/// (NIO) to `URL/ws/s<i>`, reads the server's RSS before and after, produces RATE events/s
/// for SECONDS through `URL/events`, and prints deliveries/s and produce-to-receipt p50/p99.

let logger = Logger(label: "bench")
let arguments = CommandLine.arguments

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func url(_ text: String) throws -> String {
    guard text.hasPrefix("http://127.0.0.1:") || text.hasPrefix("ws://127.0.0.1:") else { throw Failure(description: "loopback only: \(text)") }
    return text
}

// MARK: match

func match(filterCount: Int) throws {
    var random = SplitMix64(seed: 19)
    let types = ["purchase", "view", "refund", "signup", "login", "search", "share", "like"]
    let tiers = ["premium", "basic", "free"]
    var filters: [JSONValue] = []
    for index in 0..<filterCount {
        var filter: [String: JSONValue] = [
            "subscriber_id": .string("s\(index)"),
            "event_types": .array((0..<(1 + random.next() % 2)).map { _ in .string(types[Int(random.next() % 8)]) }),
            "conditions": ["field": "properties.item", "op": "in", "values": .array((0..<3).map { _ in .string("i\(random.next() % 50_000)") })],
        ]
        if random.next() % 4 == 0 {
            filter["user_tiers"] = [.string(tiers[Int(random.next() % 3)])]
            filter["min_amount"] = .number(Double(random.next() % 200))
        }
        filters.append(.object(filter))
    }
    let matcher = try FilterMatcher(filters: filters)
    let events = try (0..<100_000).map { _ in
        try FilterMatcher.event([
            "event_type": .string(types[Int(random.next() % 8)]), "user_id": .string("u\(random.next() % 1000)"),
            "user_tier": .string(tiers[Int(random.next() % 3)]), "amount": .number(Double(random.next() % 300)),
            "properties": ["item": .string("i\(random.next() % 50_000)")],
        ])
    }
    func rate(_ count: Int, scanning: Bool) -> (Double, Int) {
        let start = ContinuousClock.now
        var matched = 0
        for index in 0..<count { matched += matcher.matches(events[index % events.count], scanning: scanning) }
        return (Double(count) / (ContinuousClock.now - start).seconds, matched)
    }
    _ = rate(20_000, scanning: false)
    var indexed: [Double] = []
    var scanned: [Double] = []
    for round in 1...3 {
        let (fast, hits) = rate(1_000_000, scanning: false)
        // The scan gets fewer events, so a round takes seconds, not hours.
        let (slow, _) = rate(max(200, 20_000_000 / filterCount), scanning: true)
        indexed.append(fast)
        scanned.append(slow)
        print(
            String(
                format: "round %d: %d filters: index %.0f events/s, scan %.0f events/s, index/scan %.1f (%.2f matches per event)",
                round,
                filterCount,
                fast,
                slow,
                fast / slow,
                Double(hits) / 1_000_000
            )
        )
    }
    let fast = indexed.sorted()[1]
    let slow = scanned.sorted()[1]
    print(String(format: "%d filters, one core: index %.0f events/s, scan %.0f events/s (medians), %.0fx", filterCount, fast, slow, fast / slow))
}

/// The generator of the tests, for the same figures on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: filters

func createFilters(base: String, count: Int, key: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<32 {
            group.addTask {
                for index in stride(from: worker, to: count, by: 32) {
                    var request = HTTPClientRequest(url: base + "/filters")
                    request.method = .POST
                    request.headers.add(name: "X-Api-Key", value: key)
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(
                        ByteBuffer(
                            string:
                                #"{"subscriber_id": "s\#(index)", "conditions": {"field": "properties.group", "op": "eq", "value": "g\#(index % 1000)"}}"#
                        )
                    )
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    guard response.status == .created || response.status == .conflict else {
                        throw Failure(description: "POST /filters: \(response.status)")
                    }
                    _ = try await response.body.collect(upTo: 1 << 16)
                }
            }
        }
        try await group.waitForAll()
    }
}

// MARK: bare

/// The subscribers' outgoing queues of the bare server.
final class BareHub: Sendable {
    let queues = NIOLockedValueBox<[String: AsyncStream<String>.Continuation]>([:])
}

func bare(port: Int, clients: Int) async throws {
    let hub = BareHub()
    let sockets = Router(context: BasicWebSocketRequestContext.self)
    sockets.ws("/ws/:id") { inbound, outbound, context in
        let id = context.requestContext.parameters.get("id") ?? ""
        let (frames, queue) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1_000))
        hub.queues.withLockedValue { $0[id] = queue }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await inbound.reduce(0) { count, _ in count + 1 } }
            group.addTask { for await frame in frames { try? await outbound.write(.text(frame)) } }
            await group.next()
            group.cancelAll()
        }
        hub.queues.withLockedValue { $0[id] = nil }
    }
    let router = Router()
    router.post("/events") { request, context -> Response in
        guard case .array(let events) = try JSONValue.parse(try await request.body.collect(upTo: 1 << 22)) else {
            return Response(status: .badRequest)
        }
        var position = 0
        for event in events {
            guard case .string(let group)? = event["properties"]?["group"], let number = Int(group.dropFirst()) else { continue }
            var writer = JSONWriter()
            writer.value(event)
            position += 1
            let frame = #"{"type":"event","id":"0-\#(position)","event":\#(String(buffer: writer.buffer))}"#
            let targets = hub.queues.withLockedValue { queues in stride(from: number, to: clients, by: 1_000).compactMap { queues["s\($0)"] } }
            for queue in targets { queue.yield(frame) }
        }
        return Response(status: .accepted)
    }
    let app = Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: sockets, configuration: .init(ws: .init(maxFrameSize: 1 << 16))),
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        logger: logger
    )
    try await app.runService()
}

// MARK: drive

/// Produce-to-receipt latencies in microseconds, and the deliveries counted.
final class Latencies: Sendable {
    private let values = NIOLockedValueBox<[Int]>([])
    func add(_ micros: Int) { values.withLockedValue { $0.append(micros) } }
    var all: [Int] { values.withLockedValue { $0 } }
}

func rss(_ pid: String) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

func nowMicros() -> Int { Int(Date().timeIntervalSince1970 * 1_000_000) }

func drive(base: String, clients: Int, rate: Int, seconds: Int, serverPID: String) async throws {
    let before = rss(serverPID)
    let latencies = Latencies()
    let connected = NIOLockedValueBox(0)
    let group = MultiThreadedEventLoopGroup.singleton
    let wsBase = "ws://" + base.dropFirst("http://".count)
    var tasks: [Task<Void, Never>] = []
    for index in 0..<clients {
        tasks.append(
            Task {
                _ = try? await WebSocketClient.connect(
                    url: "\(wsBase)/ws/s\(index)",
                    configuration: .init(maxFrameSize: 1 << 16),
                    eventLoopGroup: group,
                    logger: logger
                ) { inbound, _, _ in
                    connected.withLockedValue { $0 += 1 }
                    for try await frame in inbound {
                        let text = String(buffer: frame.data)
                        guard let range = text.range(of: "\"sent_us\":") else { continue }
                        let digits = text[range.upperBound...].prefix { $0.isNumber }
                        if let sent = Int(digits) { latencies.add(nowMicros() - sent) }
                    }
                }
            }
        )
        if index % 200 == 199 {
            while connected.withLockedValue({ $0 }) < index - 400 { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
    let deadline = ContinuousClock.now + .seconds(120)
    while connected.withLockedValue({ $0 }) < clients, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    try await Task.sleep(for: .seconds(2))
    let after = rss(serverPID)
    let open = connected.withLockedValue { $0 }
    print(
        "connected \(open) of \(clients); server RSS \(before / 1024) MiB before, \(after / 1024) MiB after: \((after - before) * 1024 / max(1, open)) bytes per connection"
    )

    // The producer: a batch every 20 ms, each event for one group (clients/1000 subscribers).
    let perBatch = max(1, rate / 50)
    let start = ContinuousClock.now
    var sent = 0
    var tick = start
    while ContinuousClock.now - start < .seconds(seconds) {
        let stamp = nowMicros()
        var body = "["
        for index in 0..<perBatch {
            if index > 0 { body += "," }
            let group = (sent + index) % 1000
            body +=
                #"{"event_type":"tick","user_id":"u\#((sent + index) % 97)","user_tier":"free","properties":{"group":"g\#(group)","sent_us":\#(stamp)}}"#
        }
        body += "]"
        var request = HTTPClientRequest(url: base + "/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .accepted else { throw Failure(description: "POST /events: \(response.status)") }
        sent += perBatch
        tick = tick + .milliseconds(20)
        if tick > ContinuousClock.now { try await Task.sleep(until: tick) }
    }
    let produced = (ContinuousClock.now - start).seconds
    try await Task.sleep(for: .seconds(3))
    let values = latencies.all.sorted()
    let expected = sent * open / 1000
    let p50 = values.isEmpty ? 0 : Double(values[values.count / 2]) / 1000
    let p99 = values.isEmpty ? 0 : Double(values[min(values.count - 1, values.count * 99 / 100)]) / 1000
    print(
        String(
            format: "%d events in %.1f s, %d deliveries of %d expected (%.0f/s): latency p50 %.1f ms, p99 %.1f ms",
            sent,
            produced,
            values.count,
            expected,
            Double(values.count) / produced,
            p50,
            p99
        )
    )
    for task in tasks { task.cancel() }
}

switch arguments.dropFirst().first {
case "match":
    try match(filterCount: Int(arguments[2]) ?? 10_000)
case "filters":
    try await createFilters(base: try url(arguments[2]), count: Int(arguments[3]) ?? 10_000, key: arguments.count > 4 ? arguments[4] : "bench-key")
case "bare":
    try await bare(port: Int(arguments[2]) ?? 9999, clients: Int(arguments[3]) ?? 10_000)
case "drive":
    try await drive(
        base: try url(arguments[2]),
        clients: Int(arguments[3])!,
        rate: Int(arguments[4])!,
        seconds: Int(arguments[5])!,
        serverPID: arguments[6]
    )
default:
    print("usage: StreamBench match FILTERS | filters URL CLIENTS [KEY] | bare PORT CLIENTS | drive URL CLIENTS RATE SECONDS SERVER_PID")
}
