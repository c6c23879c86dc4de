import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Shared

/// `GET /dashboard` (the page), `GET /dashboard/state` (the same as JSON) and
/// `GET /dashboard/events` (Server-Sent Events: a `state` event on every change and every
/// refresh tick).
///
/// The dashboard names every instance and where it listens, so by default it needs an admin
/// key (``DashboardAccess``).
struct DashboardAPI: Sendable {
    let board: DashboardBoard
    let access: DashboardAccess
    /// Live viewers of `/dashboard/events`, in all and per client (`GATEWAY_DASHBOARD_VIEWERS`,
    /// 256; `GATEWAY_DASHBOARD_VIEWERS_PER_CLIENT`, 8).
    let viewers: ConcurrencyLimit

    static func stateJSON(_ board: DashboardBoard) -> ByteBuffer {
        var writer = JSONWriter(capacity: 4096)
        writer.value(board.state())
        return writer.buffer
    }

    func register(on router: Router<ServiceRequestContext>) {
        let board = self.board
        let dashboard = router.group().add(middleware: access)
        dashboard.get("/dashboard") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html))
            )
        }
        dashboard.get("/dashboard/state") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                body: .init(byteBuffer: Self.stateJSON(board))
            )
        }
        let viewers = self.viewers
        dashboard.get("/dashboard/events") { _, context in
            let slot: ConcurrencyLimit.Slot
            switch viewers.acquire(context.clientBucket) {
            case .success(let held): slot = held
            case .failure(let refusal): throw ProblemDetails.noSlot(refusal, what: "dashboard viewers")
            }
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    defer { slot.release() }
                    let (id, signals) = board.changes()
                    defer { board.stopWatching(id) }
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await withGracefulShutdownHandler {
                        for await _ in signals {
                            var buffer = ByteBuffer(string: "event: state\ndata: ")
                            var body = Self.stateJSON(board)
                            buffer.writeBuffer(&body)
                            buffer.writeString("\n\n")
                            try await writer.write(buffer)
                        }
                    } onGracefulShutdown: {
                        board.stopWatching(id)
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }
}
