import NIOCore

/// The first handler of every client connection, on raw bytes: the connection cap, the
/// deadline for a request head, and the idle timeout between requests.
///
/// It sees bytes, not requests, so ``RequestObserver`` (after the HTTP codec) tells it when a
/// head is complete and when a response has ended. Timers run only while nothing is in
/// flight: from the opening or a head's first byte until the head is complete (the head
/// deadline, answered 408), and from a response's end until the next byte (the idle
/// timeout, closed silently as HTTP/1.1 allows). Past the cap a connection is answered 503
/// and closed without its bytes ever reaching the HTTP codec.
///
/// A write while a head is being read also ends the head's timer: it is an answer (a `101`
/// before a WebSocket, whose HTTP handlers are then gone, or a refused upgrade), so the
/// connection is busy until a response's end says otherwise.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase {
        /// Nothing in flight and no byte of a next request yet: the idle timer runs (the head
        /// timer for a connection's first request).
        case idle
        /// A head has begun and is not complete: the head timer runs.
        case readingHead
        /// This many requests are being answered: no timer.
        case busy(Int)
        /// Over the cap: answered 503 once, then closed.
        case refused(answered: Bool)
        case closed
    }

    private let counter: ConnectionCounter
    private var phase: Phase = .idle
    private var timer: DeadlineTimer?
    /// Whether the running timer's expiry is answered 408 (a head late) or not (idle, refused).
    private var expiryAnswers408 = false
    private var counted = false
    private var context: ChannelHandlerContext?

    init(counter: ConnectionCounter) {
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The head deadline is the shorter: an idle timer's task is then one the next head reuses.
        timer = DeadlineTimer(eventLoop: context.eventLoop, horizon: TimeAmount(counter.limits.headerTimeout)) { [weak self] in
            self?.expire()
        }
        if context.channel.isActive { opened(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context: context)
        context.fireChannelActive()
    }

    private func opened(context: ChannelHandlerContext) {
        guard !counted, case .idle = phase else { return }
        if counter.admit() {
            counted = true
            // A connection that says nothing is held no longer than a slow head would be.
            arm(counter.limits.headerTimeout, answer408: true)
        } else {
            phase = .refused(answered: false)
            // A client that never writes is not waited for beyond the head deadline.
            arm(counter.limits.headerTimeout, answer408: false)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    private func finish() {
        timer?.cancel()
        phase = .closed
        if counted {
            counted = false
            counter.close()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .refused(let answered):
            // Read and dropped: closing with unread bytes would reset the connection and
            // could lose the answer.
            if !answered {
                phase = .refused(answered: true)
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(Self.refusal)), promise: nil)
                context.close(mode: .output, promise: nil)
            }
            return
        case .idle:
            phase = .readingHead
            arm(counter.limits.headerTimeout, answer408: true)
        case .readingHead, .busy, .closed:
            break
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .refused = phase { return }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .readingHead = phase {
            disarmTimer()
            phase = .busy(1)
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .refused = phase, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request head is complete and its request is in flight.
    func requestStarted() {
        switch phase {
        case .idle, .readingHead:
            disarmTimer()
            phase = .busy(1)
        case .busy(let count):
            phase = .busy(count + 1)
        case .refused, .closed:
            break
        }
    }

    /// A response has ended; with nothing else in flight the connection is idle.
    func responseEnded() {
        guard case .busy(let count) = phase, let context else { return }
        if count > 1 {
            phase = .busy(count - 1)
        } else {
            phase = .idle
            arm(counter.limits.idleTimeout, answer408: false)
        }
    }

    private func arm(_ delay: Duration, answer408: Bool) {
        expiryAnswers408 = answer408
        timer?.arm(in: TimeAmount(delay))
    }

    private func expire() {
        guard let context else { return }
        switch phase {
        case .idle, .readingHead:
            counter.recordTimeout()
            phase = .closed
            if expiryAnswers408 {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(Self.headTimeout)), promise: nil)
            }
            context.close(promise: nil)
        case .refused:
            context.close(promise: nil)
        case .busy, .closed:
            break
        }
    }

    private func disarmTimer() {
        timer?.disarm()
    }

    /// The answer past the cap, written as bytes: the HTTP codec never sees this connection.
    static let refusal = rawResponse(
        status: "503 Service Unavailable",
        headers: "retry-after: 1\r\n",
        problem:
            #"{"type":"/problems/too-many-connections","title":"Service Unavailable","status":503,"detail":"the server has as many connections open as it takes; retry later"}"#
    )

    /// The answer to a head that did not arrive in time.
    static let headTimeout = rawResponse(
        status: "408 Request Timeout",
        headers: "",
        problem: #"{"type":"/problems/request-timeout","title":"Request Timeout","status":408,"detail":"the request head did not arrive in time"}"#
    )

    private static func rawResponse(status: String, headers: String, problem: String) -> ByteBuffer {
        ByteBuffer(
            string: "HTTP/1.1 \(status)\r\ncontent-type: application/problem+json\r\ncontent-length: \(problem.utf8.count)\r\n"
                + headers + "connection: close\r\n\r\n" + problem
        )
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
