import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Shared

/// `GET /events`: flag and segment changes as Server-Sent Events.
///
/// A new stream starts with a `snapshot` event (every flag and segment); then each change
/// is a `flag` or `segment` event whose data is the change (`deleted: true` for a delete).
/// A client reconnecting with `Last-Event-ID` gets just what it missed when this instance
/// still holds it, else a fresh `snapshot`. `?flags=a,b` narrows flag events to those flags.
/// A client too slow to keep up is disconnected (it resumes with `Last-Event-ID`); idle
/// streams get a comment line every keep-alive interval.
struct FlagEventsAPI: Sendable {
    let store: FlagStore

    /// - Parameter router: the group behind the read access check.
    func register(on router: some RouterMethods<ServiceRequestContext>) {
        router.get("/events") { request, _ in
            let filter = request.uri.queryParameters.get("flags").map { Set($0.split(separator: ",").map(String.init)) }
            let subscription = store.subscribe(lastEventID: request.headers[.lastEventID])
            let store = self.store
            let headers: HTTPFields = [
                .contentType: "text/event-stream",
                .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ]
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    func wanted(_ change: EntityChange) -> Bool {
                        change.kind == .segment || filter == nil || filter!.contains(change.name)
                    }
                    func send(_ item: FlagStore.Item) async throws {
                        switch item {
                        case .keepAlive:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        case .change(let sequence, let change) where wanted(change):
                            let data = String(decoding: try encoder.encode(change), as: UTF8.self)
                            try await writer.write(
                                ByteBuffer(string: "id: \(store.eventID(sequence))\nevent: \(change.kind.rawValue)\ndata: \(data)\n\n")
                            )
                        case .change:
                            break
                        }
                    }
                    do {
                        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                        if let replay = subscription.replay {
                            for item in replay { try await send(item) }
                        } else {
                            let snapshot = subscription.snapshot
                            let payload: JSONValue = [
                                "revision": .number(Double(snapshot.revision)),
                                "flags": .array(snapshot.entities(.flag).filter(wanted).map(\.record)),
                                "segments": .array(snapshot.entities(.segment).map(\.record)),
                            ]
                            let data = String(decoding: try encoder.encode(payload), as: UTF8.self)
                            try await writer.write(
                                ByteBuffer(string: "id: \(store.eventID(subscription.sequence))\nevent: snapshot\ndata: \(data)\n\n")
                            )
                        }
                        // Ends on graceful shutdown too, or the server would wait for this
                        // response forever.
                        try await withGracefulShutdownHandler {
                            for await item in subscription.items { try await send(item) }
                        } onGracefulShutdown: {
                            store.unsubscribe(subscription.id)
                        }
                    } catch {
                        store.unsubscribe(subscription.id)
                        throw error
                    }
                    store.unsubscribe(subscription.id)
                    try await writer.finish(nil)
                }
            )
        }
    }
}
