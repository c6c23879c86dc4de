import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// An ``UpstreamPool`` per event loop of the server's group, found from a connection's loop
/// without a lock (the dictionary is built once and never changes). A `Service`: after the
/// server has stopped (services stop in reverse order), it closes the idle connections.
struct UpstreamPools: Service {
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>]

    init(group: MultiThreadedEventLoopGroup = .singleton, configuration: UpstreamPool.Configuration) {
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(UpstreamPool(eventLoop: loop, configuration: configuration), eventLoop: loop)
        }
        self.pools = pools
    }

    /// The pool of `loop` (nil for a loop outside the group: such a connection is left to
    /// the router).
    func pool(on loop: any EventLoop) -> UpstreamPool? {
        pools[ObjectIdentifier(loop)]?.value
    }

    func run() async throws {
        try? await gracefulShutdown()
        for bound in pools.values {
            try? await bound.eventLoop.submit { bound.value.closeAll() }.get()
        }
    }
}
