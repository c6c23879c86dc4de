import NIOCore

/// A deadline that a connection's handler moves on every request, on that connection's event
/// loop, without scheduling and cancelling a task each time.
///
/// NIO's `Scheduled.cancel()` searches the loop's whole task queue, and every `scheduleTask`
/// allocates a task and a promise; at a few timers per request across a loop's connections
/// that was a tenth of a proxied request's CPU. Here disarming only forgets the deadline, and
/// arming keeps the task already scheduled when it fires no later than the new deadline. A
/// task that fires early finds the deadline still ahead and schedules itself again for it, so
/// ``expired`` runs at the deadline, as a task scheduled for it would.
///
/// `horizon`, when set, is how far ahead a task is ever scheduled: arming for a long
/// deadline then leaves a task that a later, shorter one can reuse (a connection's idle
/// timeout followed by the next request's head deadline).
///
/// Not thread-safe: its owner calls it on `eventLoop` only, and must ``cancel()`` it when
/// removed (a scheduled task holds the timer, and with it ``expired``, until it runs).
public final class DeadlineTimer {
    private let eventLoop: any EventLoop
    private let horizon: TimeAmount?
    private let expired: () -> Void
    private var deadline: NIODeadline?
    private var task: (scheduled: Scheduled<Void>, at: NIODeadline)?

    /// - Parameters:
    ///   - eventLoop: The loop of the channel whose handler owns the timer.
    ///   - horizon: The furthest a task is scheduled ahead; `nil` for the deadline itself.
    ///   - expired: Runs on `eventLoop` once a deadline passes without being disarmed.
    public init(eventLoop: any EventLoop, horizon: TimeAmount? = nil, expired: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.horizon = horizon
        self.expired = expired
    }

    /// Sets the deadline `delay` from now, replacing any earlier one.
    public func arm(in delay: TimeAmount) {
        let now = NIODeadline.now()
        let deadline = now + delay
        self.deadline = deadline
        if let task, task.at <= deadline { return }
        task?.scheduled.cancel()
        schedule(now: now)
    }

    /// Forgets the deadline: nothing expires until the next ``arm(in:)``.
    public func disarm() {
        deadline = nil
    }

    /// Forgets the deadline and cancels the task, for an owner that goes.
    public func cancel() {
        deadline = nil
        task?.scheduled.cancel()
        task = nil
    }

    private func schedule(now: NIODeadline) {
        guard let deadline else { return }
        let at = horizon.map { min(deadline, now + $0) } ?? deadline
        let scheduled = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: at) { [self] in fired() }
        task = (scheduled, at)
    }

    private func fired() {
        task = nil
        guard let deadline else { return }
        let now = NIODeadline.now()
        if now < deadline {
            schedule(now: now)
            return
        }
        self.deadline = nil
        expired()
    }
}

@available(*, unavailable)
extension DeadlineTimer: Sendable {}
