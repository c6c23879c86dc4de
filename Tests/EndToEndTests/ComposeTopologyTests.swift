import Foundation
import Shared
import TestSupport
import Testing

/// docker-compose.yml's topology without Docker: each service, Redis and PostgreSQL in a
/// network namespace of its own on a private bridge, every namespace's /etc/hosts naming the
/// others as compose's DNS would, each executable with exactly the environment the compose
/// file gives it (its `${VAR}`s as a `.env` would set them). Only the test's own namespaces
/// and addresses; everything is torn down after, also on failure.
@Suite("Exclusive compose topology in network namespaces", .teardown)
struct ExclusiveComposeTopologyTests {
    static let root = DeploymentTests.root

    /// The namespaces, the bridge and what runs in them.
    final class Topology: @unchecked Sendable {
        let id: String
        let subnet: String
        let bridge: String
        let directory: String
        private(set) var addresses: [String: String] = [:]
        private(set) var namespaces: [String] = []
        var processes: [String: ServiceProcess] = [:]
        var stops: [() async -> Void] = []

        init() {
            id = "st" + String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)
            subnet = "10.213.\(Int.random(in: 16...250))"
            bridge = "br" + id
            directory = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("topology")
        }

        func namespace(_ node: String) -> String { "\(id)-\(node)" }

        func ip(_ arguments: String...) async throws { try await Shell.run(["ip"] + arguments) }

        func createBridge() async throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            _ = try await Shell.run(["chmod", "755", directory])
            try await ip("link", "add", bridge, "type", "bridge")
            try await ip("addr", "add", "\(subnet).1/24", "dev", bridge)
            try await ip("link", "set", bridge, "up")
        }

        /// A namespace for `node`, its end of a veth pair on the bridge at the next address.
        func add(_ node: String) async throws {
            let name = namespace(node)
            let address = "\(subnet).\(10 + addresses.count)"
            let veth = "v\(id)\(addresses.count)"
            try await ip("netns", "add", name)
            namespaces.append(name)
            addresses[node] = address
            try await ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
            try await ip("link", "set", veth, "master", bridge, "up")
            try await ip("-n", name, "addr", "add", "\(address)/24", "dev", "eth0")
            try await ip("-n", name, "link", "set", "eth0", "up")
            try await ip("-n", name, "link", "set", "lo", "up")
        }

        /// Every namespace's /etc/hosts (what `ip netns exec` mounts from /etc/netns/NAME):
        /// each node by name, `flags` as the first FlagService as compose's DNS would answer.
        func writeHosts(aliases: [String: String]) throws {
            var hosts = "127.0.0.1 localhost\n"
            for (node, address) in addresses.sorted(by: { $0.key < $1.key }) { hosts += "\(address) \(node)\n" }
            for (alias, node) in aliases { hosts += "\(addresses[node]!) \(alias)\n" }
            for name in namespaces {
                try FileManager.default.createDirectory(atPath: "/etc/netns/\(name)", withIntermediateDirectories: true)
                try hosts.write(toFile: "/etc/netns/\(name)/hosts", atomically: true, encoding: .utf8)
            }
        }

        func exec(_ node: String, _ arguments: [String]) -> [String] { ["ip", "netns", "exec", namespace(node)] + arguments }

        func tearDown() async {
            for process in processes.values { process.signal(SIGKILL) }
            for process in processes.values { _ = await process.waitForExit() }
            for stop in stops.reversed() { await stop() }
            for name in namespaces {
                _ = try? await Shell.run(["ip", "netns", "del", name])
                try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
            }
            _ = try? await Shell.run(["ip", "link", "del", bridge])
        }
    }

    static func secret() -> String { (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }

    @Test func everyServiceAnswersThroughTheGatewayAndScaledFlagsAreBalancedAndRoutedAround() async throws {
        let topology = Topology()
        afterTest { await topology.tearDown() }
        let secrets = ["REDIS_PASSWORD": Self.secret(), "POSTGRES_PASSWORD": Self.secret(), "ADMIN_API_KEYS": Self.secret()]
        let facts = try await DeploymentTests.facts(
            "compose",
            Self.root + "/docker-compose.yml",
            given: secrets.merging(["SUITE_SUBNET": "\(topology.subnet).0/24"]) { $1 }
        )
        // flags scaled to three, as `docker compose up --scale flags=3`.
        let scaled = ["flags": 3]
        var nodes = ["redis", "postgres"]
        for service in facts.services {
            let count = scaled[service.name] ?? 1
            nodes += count == 1 ? [service.name] : (1...count).map { "\(service.name)-\($0)" }
        }
        try await topology.createBridge()
        for node in nodes { try await topology.add(node) }
        try topology.writeHosts(aliases: ["flags": "flags-1"])

        // Redis as compose runs it: append-only, the password from the environment.
        let redisDirectory = topology.directory + "/redis"
        try FileManager.default.createDirectory(atPath: redisDirectory, withIntermediateDirectories: true)
        try await Shell.run(
            topology.exec(
                "redis",
                [
                    "redis-server", "--bind", "0.0.0.0", "--port", "6379", "--requirepass", secrets["REDIS_PASSWORD"]!,
                    "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--dir", redisDirectory,
                    "--daemonize", "yes", "--pidfile", redisDirectory + "/redis.pid", "--logfile", redisDirectory + "/redis.log",
                ]
            )
        )
        topology.stops.append {
            if let pid = try? String(contentsOfFile: redisDirectory + "/redis.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
                _ = try? await Shell.run(["kill", "-9", pid])
            }
        }
        // PostgreSQL with its durable defaults, user `suite` with the password, open to the subnet.
        let pgDirectory = topology.directory + "/pg"
        try await Shell.run([
            "env", "SUITE_PG_PASSWORD=\(secrets["POSTGRES_PASSWORD"]!)", "bash", TestEnvironment.infraScript, "pg-init", pgDirectory,
        ])
        try "listen_addresses = '*'\nport = 5432\n".appendLine(to: pgDirectory + "/postgresql.conf")
        try "host all all \(topology.subnet).0/24 scram-sha-256\n".appendLine(to: pgDirectory + "/pg_hba.conf")
        try await Shell.run(topology.exec("postgres", ["bash", TestEnvironment.infraScript, "pg-start", pgDirectory, "5432"]))
        topology.stops.append {
            _ = try? await Shell.run(topology.exec("postgres", ["bash", TestEnvironment.infraScript, "pg-stop", pgDirectory, "immediate"]))
        }

        // Each service's executable in its namespace, with the compose environment only.
        var ports: [String: Int] = [:]
        for service in facts.services {
            let configuration = try await DeploymentTests.printConfig(service.executable, environment: service.environment)
            let count = scaled[service.name] ?? 1
            for node in count == 1 ? [service.name] : (1...count).map({ "\(service.name)-\($0)" }) {
                ports[node] = configuration.port
                let variables = service.environment.merging(["HEALTH_INTERVAL_MS": "300"]) { $1 }.map { "\($0.key)=\($0.value)" }.sorted()
                let path = ServiceProcess.binDirectory.appendingPathComponent(service.executable).path
                topology.processes[node] = try ServiceProcess(
                    name: node,
                    arguments: topology.exec(node, ["env", "-i", "PATH=/usr/bin:/bin"] + variables + [path]),
                    port: configuration.port,
                    environment: [:]
                )
            }
        }
        func url(_ node: String) -> String { "http://\(topology.addresses[node]!):\(ports[node]!)" }
        for (node, process) in topology.processes {
            let ready = await eventually(timeout: .seconds(60)) {
                guard process.isRunning else { return true }
                return try await HTTP.get(url(node) + HealthPaths.ready).status == 200
            }
            #expect(ready && process.isRunning, "\(node) is not ready:\n\(process.log)")
        }

        // Every service answers through the gateway's address (a 404 here is the service's own).
        let gateway = url("gateway")
        let key = ["X-Api-Key": secrets["ADMIN_API_KEYS"]!]
        for (path, status) in [
            ("/flags/flags", 200), ("/restrictions/canmessage?user_id=u1", 200), ("/analytics/api/metrics/summary?type=cpu&period=hour", 200),
            ("/stream/filters", 200), ("/social/profile/get_user_info?user_id=987654", 404), ("/social/post/get_post_info?post_id=987654", 404),
            ("/social/feed/fetch_feed", 200),
        ] {
            let answer = try await HTTP.get(gateway + path, headers: key)
            #expect(answer.status == status, "\(path): \(answer.status) \(answer.text.prefix(300))")
        }

        // Heartbeats cross the namespaces: the gateway knows every instance, by its own address.
        let flagNodes = (1...3).map { "flags-\($0)" }
        let everyoneUp = await eventually(timeout: .seconds(20)) {
            let state = try await HTTP.get(gateway + "/dashboard/state", headers: key).json
            let services = state?["services"]?.arrayValue ?? []
            let flags = services.first { $0["service"] == "flags" }?["instances"]?.arrayValue ?? []
            let urls = Set(flags.filter { $0["status"] == "up" }.compactMap { $0["url"]?.stringValue })
            let upServices = Set(services.filter { $0["availability"] == "up" }.compactMap { $0["service"]?.stringValue })
            return urls == Set(flagNodes.map(url))
                && upServices.isSuperset(of: ["gateway", "flags", "restriction", "analytics", "stream", "profile", "post", "feed"])
        }
        let shown = try await HTTP.get(gateway + "/dashboard/state", headers: key).text
        #expect(everyoneUp, "\(shown)")

        // Balanced: every FlagService instance serves some of 60 requests sent to the gateway.
        func served(_ node: String) async throws -> Int {
            let text = try await HTTP.get(url(node) + "/metrics").text
            return text.split(separator: "\n").filter { $0.hasPrefix("http_requests_total{") && $0.contains("route=\"/flags\"") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
        }
        let before = try await flagNodes.asyncMap(served)
        for _ in 0..<60 { #expect(try await HTTP.get(gateway + "/flags/flags").status == 200) }
        let after = try await flagNodes.asyncMap(served)
        let share = zip(after, before).map { $0 - $1 }
        #expect(share.allSatisfy { $0 > 0 } && share.reduce(0, +) >= 60, "requests per instance: \(share)")

        // One instance killed: reads are routed around it, none fails.
        topology.processes["flags-2"]!.signal(SIGKILL)
        _ = await topology.processes["flags-2"]!.waitForExit()
        var statuses: [Int] = []
        for _ in 0..<60 { statuses.append(try await HTTP.get(gateway + "/flags/flags").status) }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        let aliveServed = try await ["flags-1", "flags-3"].asyncMap(served)
        #expect(zip(aliveServed, [after[0], after[2]]).map { $0 - $1 }.reduce(0, +) >= 60)
    }
}

extension String {
    fileprivate func appendLine(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
