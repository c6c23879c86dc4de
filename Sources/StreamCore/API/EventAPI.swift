import Foundation
import Hummingbird
import Shared

/// `POST /events`: one event, or a JSON array of up to ``maxBatch``, into the log.
///
/// 202 (delivery follows asynchronously) with where each event went: `{"id", "partition",
/// "duplicate"}` for one, `{"events": [...]}` in order for an array. A batch is validated
/// whole before anything is appended (422 names the first bad field, `[3].amount`).
struct EventAPI: Sendable {
    static let maxBatch = 1_000

    let log: EventLog

    func register(on router: some RouterMethods<ServiceRequestContext>) {
        router.post("/events") { request, context in
            let body = try await request.decodeJSONValue(context: context)
            let now = Date()
            if case .array(let items) = body {
                guard !items.isEmpty else { throw ProblemDetails.invalidField("[0]", "an array of events must not be empty") }
                guard items.count <= Self.maxBatch else {
                    throw ProblemDetails.invalidField("[\(Self.maxBatch)]", "at most \(Self.maxBatch) events per request")
                }
                let events = try items.enumerated().map { index, item in try StreamEvent(json: item, path: "[\(index)]", now: now) }
                let appended = try await log.append(events)
                return try Response.json(["events": .array(appended.map(Self.json))] as JSONValue, status: .accepted)
            }
            let appended = try await log.append(try StreamEvent(json: body, now: now))
            return try Response.json(Self.json(appended), status: .accepted)
        }
    }

    static func json(_ appended: EventLog.Appended) -> JSONValue {
        ["id": .string(appended.id), "partition": .number(Double(appended.partition)), "duplicate": .bool(appended.duplicate)]
    }
}
