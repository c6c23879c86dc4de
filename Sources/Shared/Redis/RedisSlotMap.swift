/// Which cluster node serves each of the 16,384 hash slots, as `CLUSTER SLOTS` reports it.
struct RedisSlotMap: Sendable, Equatable {
    /// A node's address as the cluster announces it.
    struct Node: Hashable, Sendable, CustomStringConvertible {
        var host: String
        var port: Int

        var description: String { "\(host):\(port)" }

        /// Parses `host:port` (the form of `MOVED` and `ASK` replies; IPv6 hosts have colons).
        init?(_ text: Substring) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
            var host = text[..<colon]
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            self.init(host: String(host), port: port)
        }

        init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Index into ``masters`` per slot; -1 for a slot nobody serves.
    private var owners: [Int16]
    private(set) var masters: [Node]
    /// Every node the map names, masters and replicas.
    private(set) var nodes: Set<Node>

    static let empty = RedisSlotMap(owners: Array(repeating: -1, count: RedisKeySlot.count), masters: [], nodes: [])

    private init(owners: [Int16], masters: [Node], nodes: Set<Node>) {
        self.owners = owners
        self.masters = masters
        self.nodes = nodes
    }

    /// Parses `CLUSTER SLOTS` (`[[start, end, [host, port, id, …], replica…], …]`) as answered by
    /// `asked`: a node that announces an empty host means the address it was reached on.
    init(clusterSlots reply: RedisReply, asked: Node) throws {
        self = .empty
        guard let ranges = reply.array else { throw RedisError(message: "CLUSTER SLOTS: not an array") }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                (0...end).contains(start), end < RedisKeySlot.count
            else { throw RedisError(message: "CLUSTER SLOTS: malformed range") }
            let served = try parts[2...].map { try Self.node($0, asked: asked) }
            let master = index(of: served[0])
            nodes.formUnion(served)
            for slot in start...end { owners[slot] = Int16(master) }
        }
    }

    private static func node(_ reply: RedisReply, asked: Node) throws -> Node {
        guard let fields = reply.array, fields.count >= 2, let host = fields[0].string, let port = fields[1].int else {
            throw RedisError(message: "CLUSTER SLOTS: malformed node")
        }
        return host.isEmpty || host == "?" ? Node(host: asked.host, port: port) : Node(host: host, port: port)
    }

    private mutating func index(of master: Node) -> Int {
        if let index = masters.firstIndex(of: master) { return index }
        masters.append(master)
        return masters.count - 1
    }

    func master(of slot: Int) -> Node? {
        let owner = owners[slot]
        return owner < 0 ? nil : masters[Int(owner)]
    }

    /// Whether any slot is served (a map was loaded).
    var isEmpty: Bool { masters.isEmpty }

    /// Records a `MOVED`: `slot` is now served by `node`.
    mutating func move(_ slot: Int, to node: Node) {
        owners[slot] = Int16(index(of: node))
        nodes.insert(node)
    }
}
