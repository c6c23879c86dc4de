import NIOCore
import NIOHTTP1
import NIOPosix

/// One event loop's keep-alive connections to the upstreams, touched only on that loop: the
/// client's connection and its upstream connection share a thread, so a request takes no
/// lock and makes no thread hop.
///
/// Idle connections are reused last-in first-out (the warmest first) and closed after
/// ``Configuration/idleTimeout``, which stays under the upstreams' own keep-alive timeout
/// (the suite's `HTTP_IDLE_TIMEOUT_MS`, 60 s) so the gateway, not the upstream, closes an
/// idle connection and a request never meets one the upstream is closing. At most
/// ``Configuration/maxIdle`` are kept per upstream; connections beyond are closed when done.
final class UpstreamPool {
    struct Configuration: Sendable {
        var connectTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var maxIdle: Int
    }

    private struct Parked {
        let channel: any Channel
        let since: NIODeadline
    }

    let eventLoop: any EventLoop
    private let configuration: Configuration
    private var idle: [UpstreamAddress: [Parked]] = [:]
    /// The instances' URLs as read, so that a request does not parse its instance's URL again.
    private var addresses: [String: UpstreamAddress] = [:]
    private var sweep: Scheduled<Void>?
    private var closed = false

    init(eventLoop: any EventLoop, configuration: Configuration) {
        self.eventLoop = eventLoop
        self.configuration = configuration
    }

    /// Where `url` points; nil for a URL the forwarding path cannot reach (not `http://`).
    func address(_ url: String) -> UpstreamAddress? {
        if let known = addresses[url] { return known }
        guard let address = UpstreamAddress(url) else { return nil }
        // Instances come and go with the registry: the cache is bounded by starting over.
        if addresses.count >= 1024 { addresses.removeAll(keepingCapacity: true) }
        addresses[url] = address
        return address
    }

    /// An idle connection to `address`, if one is open.
    func lease(_ address: UpstreamAddress) -> (any Channel)? {
        eventLoop.assertInEventLoop()
        let oldest = NIODeadline.now() - configuration.idleTimeout
        while let parked = idle[address]?.popLast() {
            if parked.channel.isActive, parked.since > oldest { return parked.channel }
            parked.channel.close(promise: nil)
        }
        return nil
    }

    /// A new connection to `address`, made on this loop.
    func connect(_ address: UpstreamAddress) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Responses are read only as fast as the client takes them (see ForwardingHandler).
            .channelOption(.autoRead, value: false)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Left-over bytes after a `101` are the upgraded protocol's: they are passed on.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        enableOutboundHeaderValidation: false
                    )
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: address.host, port: address.port)
    }

    /// Takes back a connection whose last response was complete and kept alive.
    func park(_ channel: any Channel, for address: UpstreamAddress) {
        eventLoop.assertInEventLoop()
        guard !closed, channel.isActive, idle[address, default: []].count < configuration.maxIdle else {
            channel.close(promise: nil)
            return
        }
        idle[address, default: []].append(Parked(channel: channel, since: .now()))
        // A read is kept pending while it is parked, so an upstream's close is seen at once.
        channel.read()
        scheduleSweep()
    }

    /// Closes every idle connection and refuses to keep more (the gateway is stopping).
    func closeAll() {
        eventLoop.assertInEventLoop()
        closed = true
        sweep?.cancel()
        for parked in idle.values.joined() { parked.channel.close(promise: nil) }
        idle = [:]
    }

    private func scheduleSweep() {
        guard sweep == nil else { return }
        sweep = eventLoop.assumeIsolated().scheduleTask(in: configuration.idleTimeout) { [self] in
            sweep = nil
            let oldest = NIODeadline.now() - configuration.idleTimeout
            for (address, parked) in idle {
                let (keep, drop) = (parked.filter { $0.since > oldest && $0.channel.isActive }, parked.filter { $0.since <= oldest })
                for stale in drop { stale.channel.close(promise: nil) }
                idle[address] = keep.isEmpty ? nil : keep
            }
            if !idle.isEmpty { scheduleSweep() }
        }
    }
}
