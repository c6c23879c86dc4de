import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Shared

/// `/filters`: each subscriber's filter.
///
/// Reads come from the instance's copy, so they work with PostgreSQL down; writes go to
/// PostgreSQL (503 + `Retry-After` when it is down), are applied here at once and announced
/// on `stream.filters` for the other instances.
struct FilterAPI: Sendable {
    let store: FilterStore
    let repository: FilterRepository
    let redis: RedisClient
    let logger: Logger

    func register(reads: some RouterMethods<ServiceRequestContext>, writes: some RouterMethods<ServiceRequestContext>) {
        writes.post("/filters") { request, context in
            let filter = try SubscriberFilter(json: try await request.decodeJSONValue(context: context))
            let record = try await repository.create(filter)
            await publish(record)
            var response = try Self.response(record, status: .created)
            response.headers[.location] = "/filters/\(record.subscriberID)"
            return response
        }

        reads.get("/filters") { request, _ in
            let (records, revision) = store.list()
            let etag = "\"r\(revision)\""
            if let condition = request.headers[.ifNoneMatch], ETag.matches(condition, etag) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return try Response.json(JSONValue.array(records.map(\.json)), headers: [.eTag: etag])
        }

        reads.get("/filters/:subscriber_id") { request, context in
            let subscriber = try Self.subscriber(context)
            guard let record = store.record(subscriber) else { throw ProblemDetails.notFound("no filter for subscriber \(subscriber)") }
            if let condition = request.headers[.ifNoneMatch], ETag.matches(condition, record.etag) {
                return Response(status: .notModified, headers: [.eTag: record.etag])
            }
            return try Self.response(record, status: .ok)
        }

        let update: @Sendable (Request, ServiceRequestContext) async throws -> Response = { request, context in
            let subscriber = try Self.subscriber(context)
            guard case .object(let patch) = try await request.decodeJSONValue(context: context) else {
                throw ProblemDetails.malformed("request body must be a JSON object")
            }
            if let renamed = patch["subscriber_id"], renamed != .string(subscriber) {
                throw ProblemDetails.invalidField("subscriber_id", "cannot be changed; create a filter for the other subscriber")
            }
            // Validated before PostgreSQL is asked, so a bad body is 422 also while it is down.
            _ = try Self.patched(["subscriber_id": .string(subscriber)], with: patch)
            let record = try await repository.update(subscriber, ifMatch: request.headers[.ifMatch]) { current in
                try Self.patched(current.members, with: patch)
            }
            await publish(record)
            return try Self.response(record, status: .ok)
        }
        writes.put("/filters/:subscriber_id", use: update)
        writes.patch("/filters/:subscriber_id", use: update)

        writes.delete("/filters/:subscriber_id") { request, context in
            let record = try await repository.delete(try Self.subscriber(context), ifMatch: request.headers[.ifMatch])
            await publish(record)
            return Response(status: .noContent)
        }
    }

    /// Applies a committed change here, then announces it (best effort: with Redis down the
    /// others catch up at their next reload).
    private func publish(_ record: FilterRecord) async {
        store.apply([record])
        do {
            let notice = FilterChangeNotice(subscriberID: record.subscriberID, version: record.version)
            try await redis.publish(FilterSyncService.channel, Array(try JSONEncoder().encode(notice)))
        } catch {
            logger.warning(
                "filter change not published; other instances catch up at their next reload",
                metadata: ["stream.subscriber": "\(record.subscriberID)", "error": "\(error)"]
            )
        }
    }

    /// A partial update: members sent replace, null clears, the rest of `base` stays.
    static func patched(_ base: [String: JSONValue], with patch: [String: JSONValue]) throws -> SubscriberFilter {
        var merged = base
        for (field, value) in patch { merged[field] = value == .null ? nil : value }
        return try SubscriberFilter(json: .object(merged))
    }

    /// The path's subscriber id, 422 when it cannot be one.
    static func subscriber(_ context: ServiceRequestContext) throws -> String {
        let subscriber = try context.pathParameter("subscriber_id")
        try FieldReader.checkName(subscriber) { JSONFieldError(field: "subscriber_id", $0) }
        return subscriber
    }

    static func response(_ record: FilterRecord, status: HTTPResponse.Status) throws -> Response {
        try Response.json(record.json, status: status, headers: [.eTag: record.etag])
    }
}
