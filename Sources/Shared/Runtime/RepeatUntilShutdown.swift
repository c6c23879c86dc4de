import ServiceLifecycle

/// Calls `tick` every `interval`, the first time one interval from now, until graceful
/// shutdown or cancellation: the heartbeat of a service's periodic work (staleness ticks,
/// resyncs, keep-alives).
public func repeatUntilShutdown(every interval: Duration, _ tick: @escaping @Sendable () async -> Void) async {
    try? await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            await tick()
        }
    }
}
