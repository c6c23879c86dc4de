import Logging
import NIOConcurrencyHelpers

/// The cluster half of ``RedisClient``: a slot map, a connection pool per node, and the
/// redirects a cluster answers with, handled so that callers see the replies of one Redis.
///
/// Commands go to the master of their keys' slot (the map is loaded from `CLUSTER SLOTS` on
/// first use). `MOVED` updates the map for that slot and asks for a full refresh; `ASK` sends
/// `ASKING` and the command to the importing node without touching the map; `TRYAGAIN` (a
/// multi-key call during a slot's migration) retries after a short pause. A node that cannot be
/// reached fails its calls at once (its pool backs off) and asks for a refresh, which finds the
/// promoted replica once the cluster has failed over. The map is also refreshed on a schedule.
final class RedisCluster: Sendable {
    typealias Node = RedisSlotMap.Node
    typealias Pool = BlockingConnectionPool<RedisConnection>

    private struct State {
        var map = RedisSlotMap.empty
        var pools: [Node: Pool] = [:]
        var refreshing = false
        var lastRefresh: ContinuousClock.Instant?
        var closed = false
        var redirects = Redirects()
    }

    /// Redirects followed so far, for metrics and tests.
    struct Redirects: Sendable, Equatable {
        var moved = 0
        var asked = 0
    }

    /// Redirects one call follows at most before it fails.
    static let maximumRedirects = 5
    /// Requested refreshes are at least this far apart, so a burst of failures costs one.
    static let refreshSpacing = Duration.milliseconds(200)

    private let configuration: RedisClient.Configuration
    private let seeds: [Node]
    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    init(configuration: RedisClient.Configuration, logger: Logger) {
        self.configuration = configuration
        self.seeds = configuration.clusterNodes.map { Node(host: $0.host, port: $0.port) }
        self.logger = logger
    }

    var usage: Pool.Usage {
        state.withLockedValue { state in
            state.pools.values.reduce(into: Pool.Usage(open: 0, leased: 0, waiting: 0)) { total, pool in
                let usage = pool.usage
                total.open += usage.open
                total.leased += usage.leased
                total.waiting += usage.waiting
            }
        }
    }

    var redirects: Redirects { state.withLockedValue(\.redirects) }

    // MARK: Commands

    /// Sends one command to its slot's node, following redirects; an error reply is returned.
    /// `prelude` (a `SCRIPT LOAD`) is sent just before it on whichever node it lands on.
    func send(_ command: RedisCommand, prelude: RedisCommand? = nil) async throws -> RedisReply {
        let route = try command.route()
        return try await send(command, prelude: prelude, to: try await node(for: route))
    }

    private func send(_ command: RedisCommand, prelude: RedisCommand?, to first: Node) async throws -> RedisReply {
        var target = first
        var asking = false
        for attempt in 0...Self.maximumRedirects {
            var commands = prelude.map { [$0] } ?? []
            if asking { commands.append(RedisCommand("ASKING")) }
            commands.append(command)
            let batch = commands
            let reply = try await run(on: target) { connection in
                batch.count == 1 ? try connection.execute(command) : try connection.pipeline(batch).last!
            }
            switch redirect(reply) {
            case .none:
                return reply
            case .moved(let node):
                target = node
                asking = false
            case .ask(let node):
                state.withLockedValue { $0.redirects.asked += 1 }
                target = node
                asking = true
            case .tryAgain:
                try await Task.sleep(for: .milliseconds(10 * (attempt + 1)))
            }
        }
        throw RedisError(message: "redis cluster: \(command.name) redirected more than \(Self.maximumRedirects) times")
    }

    /// Sends `commands` as one pipeline per node, the nodes' round trips overlapping, and returns
    /// the replies in the caller's order. A command that comes back redirected is sent again on
    /// its own. Keyless commands travel with the first keyed command's node; `prelude` opens
    /// every node's share.
    func pipeline(_ commands: [RedisCommand], prelude: RedisCommand? = nil) async throws -> [RedisReply] {
        let routes = try commands.map { try $0.route() }
        let keyed = try await nodes(for: routes)
        // Keyless commands (nil) go with the first keyed command's node, or any master.
        let fallback: Node
        if let first = keyed.lazy.compactMap({ $0 }).first { fallback = first } else { fallback = try await node(for: .anyNode) }
        var groups: [Node: [Int]] = [:]
        for (index, node) in keyed.enumerated() { groups[node ?? fallback, default: []].append(index) }
        // Nodes in one order for every caller: each pipeline holds one connection per node it
        // reaches, and leases taken in the same order cannot wait on each other in a circle.
        let nodes = groups.keys.sorted { ($0.host, $0.port) < ($1.host, $1.port) }
        let batches = nodes.map { node in (prelude.map { [$0] } ?? []) + groups[node]!.map { commands[$0] } }
        let answered = try await withConnections(to: nodes[...], held: []) { connections in
            // Every node's share is written before any reply is read, so the round trips overlap.
            for (connection, batch) in zip(connections, batches) {
                for command in batch { try connection.append(command) }
                try connection.flush()
            }
            return try zip(connections, batches).map { connection, batch in try batch.map { _ in try connection.readReply() } }
        }
        var replies = [RedisReply](repeating: .null, count: commands.count)
        for (node, nodeReplies) in zip(nodes, answered) {
            for (index, reply) in zip(groups[node]!, nodeReplies.dropFirst(prelude == nil ? 0 : 1)) { replies[index] = reply }
        }
        // Sent again from the start, so an `ASK` gets its `ASKING` on the importing node.
        for index in replies.indices where redirect(replies[index]) != nil {
            replies[index] = try await send(commands[index], prelude: prelude)
        }
        return replies
    }

    // MARK: Nodes

    private enum Redirect {
        case moved(Node)
        case ask(Node)
        case tryAgain
    }

    /// What a redirect reply asks for; a `MOVED` is recorded in the map at once.
    private func redirect(_ reply: RedisReply) -> Redirect? {
        guard case .error(let message) = reply else { return nil }
        if message.hasPrefix("TRYAGAIN") { return .tryAgain }
        let isMoved = message.hasPrefix("MOVED ")
        guard isMoved || message.hasPrefix("ASK ") else { return nil }
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisKeySlot.count).contains(slot), let node = Node(parts[2]) else {
            return nil
        }
        guard isMoved else { return .ask(node) }
        state.withLockedValue { state in
            state.map.move(slot, to: node)
            state.redirects.moved += 1
        }
        requestRefresh()
        return .moved(node)
    }

    /// The master serving `route` (any master for `.anyNode`), loading the map first if there is
    /// none yet.
    private func node(for route: RedisCommand.Route) async throws -> Node {
        if let node = try await nodes(for: [route])[0] { return node }
        if let node = state.withLockedValue({ $0.map.masters.randomElement() }) { return node }
        throw DependencyUnavailableError(dependency: "redis", reason: "cluster serves no node", retryAfter: .seconds(1))
    }

    /// The master serving each route, nil for `.anyNode`, all read under one lock; the map is
    /// loaded first if there is none yet.
    private func nodes(for routes: [RedisCommand.Route]) async throws -> [Node?] {
        if state.withLockedValue({ $0.map.isEmpty }) { try await refresh() }
        return try state.withLockedValue { state in
            try routes.map { route in
                guard case .slot(let slot) = route else { return nil }
                guard let node = state.map.master(of: slot) else {
                    throw DependencyUnavailableError(dependency: "redis", reason: "cluster serves no node for slot \(slot)", retryAfter: .seconds(1))
                }
                return node
            }
        }
    }

    /// Runs `body` on a connection to `node`. A node that cannot be reached asks for a refresh,
    /// so the map follows a failover, and fails the call at once.
    private func run<T: Sendable>(on node: Node, _ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await withConnections(to: [node], held: []) { try body($0[0]) }
    }

    /// Leases a connection to each of `nodes`, in order, and runs `body` with them all on one
    /// blocking thread: a pipeline over three nodes costs one thread hop, not three. A node that
    /// cannot be reached asks for a refresh, so the map follows a failover, and fails the call
    /// at once.
    private func withConnections<T: Sendable>(
        to nodes: ArraySlice<Node>,
        held: [RedisConnection],
        _ body: @escaping @Sendable ([RedisConnection]) throws -> T
    ) async throws -> T {
        guard let node = nodes.first else { preconditionFailure("a pipeline reaches a node") }
        do {
            let pool = try pool(for: node)
            return try await pool.withConnection { connection in
                let held = held + [connection]
                if nodes.count == 1 { return try await pool.runBlocking { try body(held) } }
                return try await withConnections(to: nodes.dropFirst(), held: held, body)
            }
        } catch let error as DependencyUnavailableError {
            requestRefresh()
            throw error
        }
    }

    private func pool(for node: Node) throws -> Pool {
        try state.withLockedValue { state in
            if state.closed { throw DependencyUnavailableError(dependency: "redis", reason: "client is shut down") }
            if let pool = state.pools[node] { return pool }
            let endpoint = RedisEndpoint(
                host: node.host,
                port: node.port,
                username: configuration.endpoint.username,
                password: configuration.endpoint.password
            )
            let (connectTimeout, commandTimeout) = (configuration.connectTimeout, configuration.commandTimeout)
            let pool = Pool(
                dependency: "redis",
                configuration: .init(size: configuration.poolSize, reconnectBackoff: configuration.reconnectBackoff),
                logger: logger
            ) {
                try RedisConnection(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            }
            state.pools[node] = pool
            return pool
        }
    }

    // MARK: Topology

    /// Loads the slot map from the first node that answers: known masters, then the other known
    /// nodes, then the seeds. Pools of nodes the new map no longer names are closed.
    func refresh() async throws {
        let candidates = state.withLockedValue { state in
            var candidates = state.map.masters.shuffled()
            candidates += state.map.nodes.subtracting(candidates).shuffled()
            return candidates + seeds.filter { !candidates.contains($0) }
        }
        var failures: [String] = []
        for node in candidates {
            do {
                let reply = try await pool(for: node).run { try $0.execute(RedisCommand("CLUSTER", "SLOTS")) }
                let map = try RedisSlotMap(clusterSlots: try RedisClient.checked(reply), asked: node)
                guard !map.isEmpty else {
                    failures.append("\(node): serves no slots")
                    continue
                }
                let departed = state.withLockedValue { state -> [Pool] in
                    let changed = state.map != map
                    state.map = map
                    state.lastRefresh = .now
                    guard changed else { return [] }
                    let kept = map.nodes.union(seeds)
                    let departed = state.pools.filter { !kept.contains($0.key) }
                    for node in departed.keys { state.pools[node] = nil }
                    return Array(departed.values)
                }
                if !departed.isEmpty || failures.count > 0 {
                    logger.info("redis cluster map refreshed", metadata: ["redis.masters": "\(map.masters)"])
                }
                for pool in departed { await pool.shutdown() }
                return
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        throw DependencyUnavailableError(
            dependency: "redis",
            reason: "no cluster node answered: \(failures.joined(separator: "; "))",
            retryAfter: .seconds(1)
        )
    }

    /// Starts a refresh in the background unless one runs or one ran just now.
    private func requestRefresh() {
        let start = state.withLockedValue { state -> Bool in
            if state.refreshing || state.closed { return false }
            if let last = state.lastRefresh, ContinuousClock.now - last < Self.refreshSpacing { return false }
            state.refreshing = true
            state.lastRefresh = .now
            return true
        }
        guard start else { return }
        Task {
            do {
                try await refresh()
            } catch {
                logger.warning("redis cluster map refresh failed", metadata: ["error": "\(error)"])
            }
            state.withLockedValue { $0.refreshing = false }
        }
    }

    /// Refreshes the map every `clusterRefreshInterval` until cancelled.
    func refreshPeriodically() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.clusterRefreshInterval)
                try await refresh()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("redis cluster map refresh failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func shutdown() async {
        let pools = state.withLockedValue { state in
            state.closed = true
            defer { state.pools = [:] }
            return Array(state.pools.values)
        }
        for pool in pools { await pool.shutdown() }
    }
}
