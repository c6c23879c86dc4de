import Synchronization

/// The open client connections of one server, and how many were refused at the cap; shared by
/// every connection's ``ConnectionGuard``.
public final class ConnectionCounter: Sendable {
    public let limits: ConnectionLimits
    private let openCount = Atomic<Int>(0)
    private let refusedCount = Atomic<Int>(0)
    private let timedOutCount = Atomic<Int>(0)

    public init(limits: ConnectionLimits) {
        self.limits = limits
    }

    public var open: Int { openCount.load(ordering: .relaxed) }
    public var refused: Int { refusedCount.load(ordering: .relaxed) }
    /// Connections closed by the head deadline or the idle timeout.
    public var timedOut: Int { timedOutCount.load(ordering: .relaxed) }

    /// Counts a new connection in; false (and not counted) when the cap is reached.
    func admit() -> Bool {
        var current = openCount.load(ordering: .relaxed)
        while current < limits.maxConnections {
            let (exchanged, original) = openCount.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        refusedCount.add(1, ordering: .relaxed)
        return false
    }

    func close() { openCount.subtract(1, ordering: .relaxed) }

    func recordTimeout() { timedOutCount.add(1, ordering: .relaxed) }
}
