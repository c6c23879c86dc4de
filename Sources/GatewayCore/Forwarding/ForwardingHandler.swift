import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import Shared

/// The gateway's proxy path for one client connection, between NIOHTTP1's server codec and
/// Hummingbird's: a routed request (``ForwardingPath/claim(_:)``) goes to an upstream
/// connection of this event loop's pool, its head rewritten in place and its body streamed
/// as it comes; the answer comes back the same way. Everything else passes on to the router.
///
/// Per request, in order: the admission of ``GatewayProxy`` (key and size, then the rate
/// limit, the only step that leaves the loop, then slot, breaker and instance), a `100
/// Continue` if the client expects one (the upstream's codec drops 1xx, so the gateway
/// answers it and drops `Expect`), an idle pooled connection or a new one, the head and body,
/// then the answer. Both directions are back-pressured: the client is read only while the
/// upstream takes writes, the upstream only while the client does.
///
/// Requests pipelined behind one in progress are held, with reads, until its response has
/// ended, then replayed in order (Hummingbird turns NIO's pipelining assistance off, and the
/// router must see them only after the answers before).
///
/// Failures: an upstream that cannot be reached, or closes before any response byte, is
/// tried again on the next instance only for an idempotent request without a body, within
/// the route's retries and the retry budget (never a POST once sent); otherwise 502. No
/// response head within the route's timeout is 504 (408 while the client is still sending its
/// body). An upstream that fails after the head was passed on closes the client's connection,
/// the only honest signal left. Only unreachable and timed-out upstreams count against the
/// breaker; what the client does never does.
///
/// A WebSocket upgrade is admitted with the WebSocket share and forwarded like any request;
/// on the upstream's `101` both connections drop HTTP and are glued byte for byte
/// (``GlueHandler``). A refused or failed upgrade is answered `400` with `Connection: close`
/// and the reason in the problem's detail, as the relay it replaces did.
///
/// Graceful shutdown: a connection told to quiesce finishes the exchange in flight, answers it
/// with `Connection: close` and closes; an upgraded one closes at once.
final class ForwardingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One proxied request and its answer.
    final class Exchange {
        let claim: ForwardingPath.Claim
        let original: HTTPRequestHead
        let method: HTTPRequest.Method
        let requestID: String
        let peer: String?
        let start = ContinuousClock.now
        let hasBody: Bool
        let retryable: Bool
        let keepAlive: Bool
        var admission: GatewayProxy.Admission?
        var attempt = 0
        var address: UpstreamAddress?
        var upstream: (channel: any Channel, handler: UpstreamHandler)?
        /// Client parts that came before the upstream connection.
        var pending: [HTTPServerRequestPart] = []
        var requestEnded = false
        var bodyBytes = 0
        var responseStarted = false
        var status = 0
        var upstreamKeepAlive = true
        var upstreamWritable = true
        var upstreamReadWanted = false
        var outcomeSettled = false
        /// The upstream answered `101`: its connection changes protocol at the head's end.
        var switching = false

        init(claim: ForwardingPath.Claim, head: HTTPRequestHead, method: HTTPRequest.Method, requestID: String, peer: String?) {
            self.claim = claim
            self.original = head
            self.method = method
            self.requestID = requestID
            self.peer = peer
            let length = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            self.hasBody = length > 0 || head.headers.contains(name: "transfer-encoding")
            self.retryable = GatewayProxy.isRead(method) && !hasBody
            self.keepAlive = head.isKeepAlive
        }
    }

    /// Where the parts of the request being read go.
    private enum Receiver {
        case router
        case exchange
        /// Its answer was given early (an error): the rest of the body is dropped.
        case discard
    }

    private let path: ForwardingPath
    private var context: ChannelHandlerContext?
    private var pool: UpstreamPool?
    private var receiver: Receiver?
    private var routerResponding = false
    private var routerEndWritten = false
    private var exchange: Exchange?
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var drainScheduled = false
    private var readPending = false
    private var closeAfterResponse = false
    private var quiescing = false
    private var inputClosedPending = false
    private var upgraded = false
    private var upgradeSlot: ConcurrencyLimit.Slot?
    /// The response deadline of the exchange in flight (from its head's send to the answer's head).
    private var responseTimer: DeadlineTimer?

    init(path: ForwardingPath) {
        self.path = path
    }

    /// A request is being read or answered.
    private var busy: Bool { receiver != nil || routerResponding || exchange != nil }

    /// Client reads wait: for the held requests to be replayed, or for the upstream.
    private var holdsReads: Bool {
        guard queued.isEmpty else { return true }
        guard receiver == .exchange, let exchange else { return false }
        return exchange.upstream == nil || !exchange.upstreamWritable
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = path.pools.pool(on: context.eventLoop)
        responseTimer = DeadlineTimer(eventLoop: context.eventLoop) { [weak self] in
            guard let self, let exchange = self.exchange, !exchange.responseStarted else { return }
            self.timedOut(exchange)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        responseTimer?.cancel()
        self.context = nil
    }

    // MARK: Client → gateway

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !upgraded else { return }
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || (receiver == nil && busy) {
            queued.append(part)
            return
        }
        process(part, context: context)
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if pool != nil, let claim = path.claim(head) {
                receiver = .exchange
                start(head, claim: claim, context: context)
            } else {
                receiver = .router
                routerResponding = true
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body(let bytes):
            switch receiver {
            case .router: context.fireChannelRead(wrapInboundOut(part))
            case .exchange: if let exchange { clientBody(bytes, exchange, context: context) }
            case .discard, nil: break
            }
        case .end(let trailers):
            switch receiver {
            case .router: context.fireChannelRead(wrapInboundOut(part))
            case .exchange: if let exchange { clientEnd(trailers, exchange) }
            case .discard, nil: break
            }
            receiver = nil
            idleAgain(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstream?.channel.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if !upgraded, holdsReads {
            readPending = true
        } else {
            context.read()
        }
    }

    private func resumeReads(context: ChannelHandlerContext) {
        guard readPending, !holdsReads else { return }
        readPending = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let exchange, exchange.upstreamReadWanted, let upstream = exchange.upstream {
            exchange.upstreamReadWanted = false
            upstream.channel.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            if upgraded {
                context.close(promise: nil)
            } else if exchange != nil {
                // Closed once the exchange in flight is answered.
                quiescing = true
            } else {
                context.fireUserInboundEventTriggered(event)
            }
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed, busy, !upgraded {
            // The router's side would end the connection on it: it waits for the answer.
            inputClosedPending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let exchange {
            abandon(exchange)
            context.close(promise: nil)
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange { abandon(exchange) }
        upgradeSlot?.release()
        upgradeSlot = nil
        queued.removeAll()
        context.fireChannelInactive()
    }

    // MARK: Router answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routerEndWritten = true }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        if routerEndWritten {
            routerEndWritten = false
            routerResponding = false
            idleAgain(context: context)
        }
    }

    /// After a response or a request has ended: the next held request, a deferred half-close,
    /// or reads again.
    private func idleAgain(context: ChannelHandlerContext) {
        guard !busy else { return }
        if inputClosedPending {
            inputClosedPending = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            return
        }
        if !queued.isEmpty {
            scheduleDrain(context: context)
        } else {
            resumeReads(context: context)
        }
    }

    /// Replays held parts on a later tick (not inside the write that ended the response).
    private func scheduleDrain(context: ChannelHandlerContext) {
        guard !drainScheduled else { return }
        drainScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            drainScheduled = false
            guard let context = self.context else { return }
            var replayed = false
            while !queued.isEmpty, !(receiver == nil && busy) {
                process(queued.removeFirst(), context: context)
                replayed = true
            }
            if replayed { channelReadComplete(context: context) }
            resumeReads(context: context)
        }
    }

    // MARK: Admission

    private func start(_ head: HTTPRequestHead, claim: ForwardingPath.Claim, context: ChannelHandlerContext) {
        let proxy = path.proxy
        let peer = context.channel.remoteAddress?.ipAddress
        let client = TrustedProxies.limitKey(proxy.trustedProxies.client(peer: peer, forwardedFor: head.headers["x-forwarded-for"]) ?? "unknown")
        let exchange = Exchange(
            claim: claim,
            head: head,
            method: HTTPRequest.Method(head.method.rawValue) ?? .get,
            requestID: RequestIDMiddleware.id(presented: head.headers.first(name: "x-request-id")),
            peer: peer
        )
        self.exchange = exchange
        proxy.budget.recordAttempt()
        let fields = ForwardingPath.admissionFields(head.headers)
        let route = claim.route
        let bucket: String
        do {
            bucket = try proxy.checkKeyAndSize(method: exchange.method, headers: fields, client: client, route: route)
        } catch {
            refuse(exchange, error)
            return
        }
        guard proxy.isLimited(route) else {
            reserve(exchange, fields: fields, client: client, limitHeaders: [:], context: context)
            return
        }
        context.eventLoop.makeFutureWithTask { try await proxy.checkRateLimit(route: route, bucket: bucket) }
            .assumeIsolated()
            .whenComplete { [self] result in
                guard self.exchange === exchange, let context = self.context else { return }
                switch result {
                case .success(let headers): reserve(exchange, fields: fields, client: client, limitHeaders: headers, context: context)
                case .failure(let error): refuse(exchange, error)
                }
            }
    }

    private func reserve(_ exchange: Exchange, fields: HTTPFields, client: String, limitHeaders: HTTPFields, context: ChannelHandlerContext) {
        do {
            exchange.admission = try path.proxy.reserve(
                headers: fields,
                client: client,
                route: exchange.claim.route,
                limitHeaders: limitHeaders,
                slots: exchange.claim.upgrade ? path.webSockets : nil
            )
        } catch {
            refuse(exchange, error)
            return
        }
        if exchange.original.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.original.version, status: .continue))), promise: nil)
        }
        connect(exchange)
    }

    // MARK: Upstream connection

    private func connect(_ exchange: Exchange) {
        guard let admission = exchange.admission, let pool else { return }
        let base = admission.candidates[exchange.attempt % admission.candidates.count]
        guard let address = pool.address(base) else {
            upstreamFailed(exchange, UpstreamAddressError(url: base))
            return
        }
        exchange.address = address
        if let channel = pool.lease(address) {
            attach(exchange, channel: channel)
            return
        }
        pool.connect(address).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard self.exchange === exchange, exchange.upstream == nil else {
                    // The client went, or the exchange was answered meanwhile: keep it for the next.
                    pool.park(channel, for: address)
                    return
                }
                attach(exchange, channel: channel)
            case .failure(let error):
                guard self.exchange === exchange else { return }
                upstreamFailed(exchange, error)
            }
        }
    }

    private func attach(_ exchange: Exchange, channel: any Channel) {
        guard let context, let address = exchange.address,
            let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
        else {
            channel.close(promise: nil)
            if let exchange = self.exchange { upstreamFailed(exchange, ChannelError.ioOnClosedChannel) }
            return
        }
        handler.owner = self
        exchange.upstream = (channel, handler)
        exchange.upstreamWritable = channel.isWritable
        var head = exchange.original
        head.rewriteForUpstream(
            target: address.basePath + exchange.claim.target,
            host: address.hostField,
            peer: exchange.peer,
            trusted: path.proxy.trustedProxies,
            requestID: exchange.requestID,
            upgrade: exchange.claim.upgrade
        )
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        // A retry (bodiless) after the end went to the connection that failed: it ends again.
        if exchange.requestEnded, exchange.pending.isEmpty { channel.write(HTTPClientRequestPart.end(nil), promise: nil) }
        for part in exchange.pending { channel.write(Self.upstreamPart(part), promise: nil) }
        exchange.pending = []
        channel.flush()
        responseTimer?.arm(in: TimeAmount(exchange.claim.route.timeout))
        channel.read()
        resumeReads(context: context)
    }

    private static func upstreamPart(_ part: HTTPServerRequestPart) -> HTTPClientRequestPart {
        switch part {
        case .head(let head): .head(head)
        case .body(let bytes): .body(.byteBuffer(bytes))
        case .end(let trailers): .end(trailers)
        }
    }

    private func clientBody(_ bytes: ByteBuffer, _ exchange: Exchange, context: ChannelHandlerContext) {
        exchange.bodyBytes += bytes.readableBytes
        let limit = exchange.claim.route.maxBodyBytes
        guard exchange.bodyBytes <= limit else {
            // Cut at the limit: the upstream has part of a body and is let go.
            receiver = .discard
            if exchange.responseStarted {
                abandon(exchange)
                context.close(promise: nil)
            } else {
                settle(exchange, outcome: nil)
                closeUpstream(exchange)
                answer(exchange, ProblemDetails.tooLarge(limit: limit), close: true)
            }
            return
        }
        if let upstream = exchange.upstream {
            upstream.channel.write(HTTPClientRequestPart.body(.byteBuffer(bytes)), promise: nil)
        } else {
            exchange.pending.append(.body(bytes))
        }
    }

    private func clientEnd(_ trailers: HTTPHeaders?, _ exchange: Exchange) {
        exchange.requestEnded = true
        if let upstream = exchange.upstream {
            upstream.channel.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
        } else {
            exchange.pending.append(.end(trailers))
        }
    }

    // MARK: Upstream → client

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard !upgraded, let exchange, let context else { return }
        switch part {
        case .head(var head):
            stopTimer(exchange)
            exchange.responseStarted = true
            exchange.status = Int(head.status.code)
            settle(exchange, outcome: .success)
            let extra = responseFields(exchange)
            if exchange.claim.upgrade {
                if head.status == .switchingProtocols {
                    var head = head
                    head.rewriteForClient(adding: extra, close: false)
                    context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                    // The decoder ends the 101 as a message; HTTP is dropped after that end.
                    exchange.switching = true
                    return
                }
                // The client's decoder stopped at the upgrade request: nothing can follow it.
                closeAfterResponse = true
            }
            exchange.upstreamKeepAlive = head.isKeepAlive
            // An HTTP/1.0 client gets its own version: without a length, its body ends at the close.
            head.version = exchange.original.version
            if head.version.minor == 0, !head.headers.contains(name: "content-length") { closeAfterResponse = true }
            if quiescing || !exchange.keepAlive { closeAfterResponse = true }
            head.rewriteForClient(adding: extra, close: closeAfterResponse)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let bytes):
            guard !exchange.switching else { return }
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        case .end(let trailers):
            if exchange.switching {
                upgrade(exchange, context: context)
                return
            }
            if let upstream = exchange.upstream, let address = exchange.address {
                exchange.upstream = nil
                upstream.handler.owner = nil
                // Back to the pool only after a whole exchange both ways, kept alive.
                if exchange.upstreamKeepAlive && exchange.requestEnded, let pool {
                    pool.park(upstream.channel, for: address)
                } else {
                    upstream.channel.close(promise: nil)
                }
            }
            finish(exchange, status: nil, trailers: trailers, context: context)
        }
    }

    func upstreamReadComplete() {
        guard !upgraded, let context else { return }
        context.flush()
        guard let exchange, let upstream = exchange.upstream else { return }
        if context.channel.isWritable {
            upstream.channel.read()
        } else {
            exchange.upstreamReadWanted = true
        }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        guard let exchange, let context else { return }
        exchange.upstreamWritable = writable
        resumeReads(context: context)
    }

    func upstreamClosed() {
        guard !upgraded, let exchange, exchange.upstream != nil, let context else { return }
        exchange.upstream = nil
        stopTimer(exchange)
        if exchange.responseStarted {
            // Mid-answer: the client cannot be told but by closing.
            path.logger.warning(
                "upstream closed mid-response",
                metadata: ["gateway.service": "\(exchange.claim.route.service)", RequestIDMiddleware.metadataKey: "\(exchange.requestID)"]
            )
            abandon(exchange)
            context.close(promise: nil)
        } else {
            upstreamFailed(exchange, ChannelError.eof)
        }
    }

    private func responseFields(_ exchange: Exchange) -> HTTPFields {
        var fields = exchange.admission?.limitHeaders ?? [:]
        fields[.requestID] = exchange.requestID
        return fields
    }

    // MARK: Upgrade

    /// After the upstream's `101` has been passed on: both connections drop HTTP and are glued.
    private func upgrade(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let upstream = exchange.upstream else { return }
        let (clientGlue, upstreamGlue) = GlueHandler.pair()
        do {
            let client = context.pipeline.syncOperations
            let decoder = try client.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try client.addHandler(clientGlue, position: .after(decoder))
            client.removeHandler(decoder, promise: nil)
            client.removeHandler(try client.handler(type: HTTPResponseEncoder.self), promise: nil)
            let far = upstream.channel.pipeline.syncOperations
            let responseDecoder = try far.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self)
            try far.addHandler(upstreamGlue, position: .after(responseDecoder))
            // Left-over bytes (the upstream's first frames) go on to the glue.
            far.removeHandler(responseDecoder, promise: nil)
            far.removeHandler(try far.handler(type: HTTPRequestEncoder.self), promise: nil)
            try upstream.channel.syncOptions?.setOption(.autoRead, value: true)
        } catch {
            abandon(exchange)
            context.close(promise: nil)
            return
        }
        upgraded = true
        upgradeSlot = exchange.admission?.slot
        stopTimer(exchange)
        record(exchange, status: 101)
        self.exchange = nil
        receiver = nil
        readPending = false
        context.read()
    }

    // MARK: Outcomes

    /// Not reached, or closed before answering: the next instance if the request may be
    /// retried, else 502.
    private func upstreamFailed(_ exchange: Exchange, _ error: any Error) {
        closeUpstream(exchange)
        stopTimer(exchange)
        let route = exchange.claim.route
        exchange.attempt += 1
        if exchange.retryable, exchange.attempt <= route.retries, path.proxy.budget.tryWithdraw() {
            path.logger.debug("retrying on another instance", metadata: ["gateway.service": "\(route.service)", "error": "\(error)"])
            connect(exchange)
            return
        }
        settle(exchange, outcome: .failure)
        let logger = requestLogger(exchange)
        if exchange.claim.upgrade {
            logger.warning("upstream WebSocket unreachable", metadata: ["error": "\(error)"])
            answer(exchange, Self.upgradeRefused("\(route.service) could not be reached"), close: true)
        } else {
            logger.warning("upstream unreachable", metadata: ["error": "\(error)"])
            answer(
                exchange,
                ProblemDetails(status: .badGateway, type: "/problems/upstream-unreachable", detail: "\(route.service) could not be reached"),
                close: exchange.hasBody && !exchange.requestEnded
            )
        }
    }

    private func timedOut(_ exchange: Exchange) {
        closeUpstream(exchange)
        let route = exchange.claim.route
        if exchange.hasBody && !exchange.requestEnded {
            // The client was still sending: its doing, not the upstream's.
            settle(exchange, outcome: nil)
            answer(
                exchange,
                ProblemDetails(status: .requestTimeout, type: "/problems/request-timeout", detail: "the request body did not arrive in time"),
                close: true
            )
        } else {
            settle(exchange, outcome: .failure)
            answer(
                exchange,
                ProblemDetails(
                    status: .gatewayTimeout,
                    type: "/problems/upstream-timeout",
                    detail: "\(route.service) did not answer within \(route.timeout)"
                ),
                close: false
            )
        }
    }

    /// A refusal by admission: what the router would have answered for the same error.
    private func refuse(_ exchange: Exchange, _ error: any Error) {
        let logger = requestLogger(exchange)
        let problem = ProblemMiddleware.problem(
            for: error,
            logger: logger,
            requestID: exchange.requestID,
            maxUploadSize: exchange.claim.route.maxBodyBytes
        )
        if exchange.claim.upgrade {
            logger.info("WebSocket upgrade refused", metadata: ["gateway.service": "\(exchange.claim.route.service)", "error": "\(error)"])
            answer(exchange, Self.upgradeRefused("\(problem.status.code) \(problem.detail)"), close: true)
        } else {
            answer(exchange, problem, close: exchange.hasBody && !exchange.requestEnded)
        }
    }

    static func upgradeRefused(_ reason: String) -> ProblemDetails {
        ProblemDetails(status: .badRequest, type: "/problems/upgrade-refused", detail: "the WebSocket upgrade was refused: \(reason)")
    }

    /// The gateway's own answer for an exchange no upstream answered.
    private func answer(_ exchange: Exchange, _ problem: ProblemDetails, close: Bool) {
        guard let context else { return }
        if close || quiescing || !exchange.keepAlive { closeAfterResponse = true }
        let body = problem.body
        var headers = HTTPHeaders()
        for field in problem.headers { headers.add(name: field.name.rawName, value: field.value) }
        headers.replaceOrAdd(name: "Content-Type", value: "application/problem+json")
        headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        headers.replaceOrAdd(name: "X-Request-Id", value: exchange.requestID)
        if closeAfterResponse { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: problem.status.code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        finish(exchange, status: problem.status.code, trailers: nil, context: context)
    }

    /// The response has ended: count and log it, give back the slot, then the next request
    /// (or the close this response announced).
    private func finish(_ exchange: Exchange, status: Int?, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        stopTimer(exchange)
        exchange.admission?.slot.release()
        record(exchange, status: status)
        self.exchange = nil
        if receiver == .exchange { receiver = .discard }
        if closeAfterResponse || quiescing {
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        idleAgain(context: context)
    }

    private func record(_ exchange: Exchange, status: Int?) {
        let status = status ?? exchange.status
        let elapsed = ContinuousClock.now - exchange.start
        path.metrics.recordRequest(route: exchange.claim.template, method: exchange.original.method.rawValue, status: status, duration: elapsed)
        // The logger with the request's id is made only when the line will be written.
        guard path.logger.logLevel <= .info else { return }
        requestLogger(exchange).info(
            "request",
            metadata: [
                "http.method": "\(exchange.original.method.rawValue)",
                "http.path": "\(exchange.original.uri.prefix { $0 != "?" })",
                "http.route": "\(exchange.claim.template)",
                "http.status": "\(status)",
                "http.duration_ms": "\(Double(elapsed.millisecondsRoundedUp))",
            ]
        )
    }

    private func requestLogger(_ exchange: Exchange) -> Logger {
        var logger = path.logger
        logger[metadataKey: RequestIDMiddleware.metadataKey] = .string(exchange.requestID)
        return logger
    }

    /// Records the upstream's outcome once: success or failure against its breaker, or nil
    /// for an exchange that says nothing about the upstream (the permit goes back).
    private func settle(_ exchange: Exchange, outcome: CircuitBreaker.Outcome?) {
        guard !exchange.outcomeSettled, let admission = exchange.admission else { return }
        exchange.outcomeSettled = true
        if let outcome {
            admission.breaker.record(admission.permit, outcome: outcome, duration: ContinuousClock.now - exchange.start)
        } else {
            admission.breaker.release(admission.permit)
        }
    }

    private func stopTimer(_ exchange: Exchange) {
        if exchange === self.exchange { responseTimer?.disarm() }
    }

    private func closeUpstream(_ exchange: Exchange) {
        guard let upstream = exchange.upstream else { return }
        exchange.upstream = nil
        upstream.handler.owner = nil
        upstream.channel.close(promise: nil)
    }

    /// The client left, or the exchange cannot go on: nothing more is written either way.
    private func abandon(_ exchange: Exchange) {
        stopTimer(exchange)
        closeUpstream(exchange)
        settle(exchange, outcome: nil)
        exchange.admission?.slot.release()
        if self.exchange === exchange { self.exchange = nil }
    }
}

/// An instance URL the forwarding path cannot connect to (not plain `http://host:port`).
struct UpstreamAddressError: Error, CustomStringConvertible {
    let url: String
    var description: String { "not an http:// URL: \(url)" }
}

@available(*, unavailable)
extension ForwardingHandler: Sendable {}
