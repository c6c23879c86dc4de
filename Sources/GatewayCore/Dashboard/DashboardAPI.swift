import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Shared

/// `GET /dashboard` (the page), `GET /dashboard/state` (the same as JSON) and
/// `GET /dashboard/events` (Server-Sent Events: a `state` event on every change and every
/// refresh tick).
public struct DashboardAPI: Sendable {
    let board: DashboardBoard

    public init(board: DashboardBoard) {
        self.board = board
    }

    public func register(on router: Router<ServiceRequestContext>) {
        let board = self.board
        router.get("/dashboard") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html))
            )
        }
        router.get("/dashboard/state") { _, _ in
            var writer = JSONWriter(capacity: 4096)
            writer.value(board.state())
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"], body: .init(byteBuffer: writer.buffer))
        }
        router.get("/dashboard/events") { _, _ in
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let (id, signals) = board.changes()
                do {
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await withGracefulShutdownHandler {
                        for await _ in signals {
                            var json = JSONWriter(capacity: 4096)
                            json.value(board.state())
                            var buffer = ByteBuffer(string: "event: state\ndata: ")
                            var body = json.buffer
                            buffer.writeBuffer(&body)
                            buffer.writeString("\n\n")
                            try await writer.write(buffer)
                        }
                    } onGracefulShutdown: {
                        board.stopWatching(id)
                    }
                } catch {
                    board.stopWatching(id)
                    throw error
                }
                board.stopWatching(id)
                try await writer.finish(nil)
            })
        }
    }
}
