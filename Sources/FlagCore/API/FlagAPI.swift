import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The definitions: `/flags` (the fixed API plus `PATCH`, history, ETags) and `/segments`.
///
/// Reads come from the instance's snapshot, so they work with PostgreSQL down; writes go
/// to PostgreSQL (503 + `Retry-After` when it is down) and are then published.
struct FlagAPI: Sendable {
    let store: FlagStore
    let repository: FlagRepository
    let publisher: FlagPublisher

    /// What differs between flags and segments.
    struct Kind: Sendable {
        let kind: EntityChange.Kind
        let path: String
        let nameField: String
        let parameter: String
    }

    static let flags = Kind(kind: .flag, path: "/flags", nameField: "flag_name", parameter: "flag_name")
    static let segments = Kind(kind: .segment, path: "/segments", nameField: "segment_name", parameter: "segment_name")

    /// - Parameters:
    ///   - reads: the group behind the read access check.
    ///   - writes: the group behind the write access check.
    func register(reads: some RouterMethods<ServiceRequestContext>, writes: some RouterMethods<ServiceRequestContext>) {
        for kind in [Self.flags, Self.segments] {
            register(kind, reads: reads, writes: writes)
        }
    }

    private func register(_ kind: Kind, reads: some RouterMethods<ServiceRequestContext>, writes: some RouterMethods<ServiceRequestContext>) {
        let item = "\(kind.path)/:\(kind.parameter)"

        writes.post(RouterPath(kind.path)) { request, context in
            let body = try await request.decodeJSONValue(context: context)
            let (name, definition) = try validate(kind, body, snapshot: store.snapshot)
            let change = try await repository.create(kind.kind, name: name, definition: definition, actor: FlagAccessMiddleware.actor(context))
            await publisher.publish(change)
            var response = try Self.recordResponse(change, status: .created)
            response.headers[.location] = "\(kind.path)/\(name)"
            return response
        }

        reads.get(RouterPath(kind.path)) { request, _ in
            let snapshot = store.snapshot
            let etag = "\"r\(snapshot.revision)\""
            if let condition = request.headers[.ifNoneMatch], ETag.matches(condition, etag) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return try Response.json(JSONValue.array(snapshot.entities(kind.kind).map(\.record)), headers: [.eTag: etag])
        }

        reads.get(RouterPath(item)) { request, context in
            let name = try Self.name(kind, context)
            guard let change = store.snapshot.entity(kind.kind, name) else {
                throw ProblemDetails.notFound("no \(kind.kind.rawValue) \(name)")
            }
            if let condition = request.headers[.ifNoneMatch], ETag.matches(condition, change.etag) {
                return Response(status: .notModified, headers: [.eTag: change.etag])
            }
            return try Self.recordResponse(change, status: .ok)
        }

        let update: @Sendable (Request, ServiceRequestContext) async throws -> Response = { request, context in
            let name = try Self.name(kind, context)
            guard case .object(let patch) = try await request.decodeJSONValue(context: context) else {
                throw ProblemDetails.malformed("request body must be a JSON object")
            }
            if let renamed = patch[kind.nameField], renamed != .string(name) {
                throw ProblemDetails.invalidField(kind.nameField, "cannot be changed; create a new \(kind.kind.rawValue) instead")
            }
            let snapshot = store.snapshot
            let change = try await repository.update(
                kind.kind,
                name: name,
                ifMatch: request.headers[.ifMatch],
                actor: FlagAccessMiddleware.actor(context)
            ) { current in
                guard case .object(var merged) = current else { return current }
                // A partial update: members sent replace, null clears, the rest stays.
                for (field, value) in patch {
                    merged[field] = value == .null ? nil : value
                }
                return try validate(kind, .object(merged), snapshot: snapshot).1
            }
            await publisher.publish(change)
            return try Self.recordResponse(change, status: .ok)
        }
        writes.put(RouterPath(item), use: update)
        writes.patch(RouterPath(item), use: update)

        writes.delete(RouterPath(item)) { request, context in
            let name = try Self.name(kind, context)
            let snapshot = store.snapshot
            let dependents = kind.kind == .flag ? snapshot.flags(requiring: name) : snapshot.flags(usingSegment: name)
            guard dependents.isEmpty else {
                throw ProblemDetails.conflict("\(kind.kind.rawValue) \(name) is used by " + dependents.joined(separator: ", "))
            }
            let change = try await repository.delete(
                kind.kind,
                name: name,
                ifMatch: request.headers[.ifMatch],
                actor: FlagAccessMiddleware.actor(context)
            )
            await publisher.publish(change)
            return Response(status: .noContent)
        }

        reads.get(RouterPath(item + "/history")) { request, context in
            let name = try Self.name(kind, context)
            let limit =
                try request.uri.queryParameters.get("limit").map { text in
                    guard let limit = Int(text), (1...1000).contains(limit) else {
                        throw ProblemDetails.invalidField("limit", "must be an integer from 1 to 1000")
                    }
                    return limit
                } ?? 100
            let entries = try await repository.history(kind.kind, name: name, limit: limit)
            guard !entries.isEmpty else { throw ProblemDetails.notFound("no history for \(kind.kind.rawValue) \(name)") }
            return try Response.json(
                JSONValue.object([
                    kind.nameField: .string(name),
                    "history": .array(
                        entries.map { entry in
                            [
                                "version": .number(Double(entry.version)),
                                "action": .string(entry.action),
                                "actor": .string(entry.actor),
                                "at": .string(Timestamp.iso8601(entry.at)),
                                "before": entry.before ?? .null,
                                "after": entry.after ?? .null,
                            ]
                        }
                    ),
                ])
            )
        }
    }

    /// Validates a definition and its references to other flags and segments; returns its
    /// name and canonical form.
    func validate(_ kind: Kind, _ json: JSONValue, snapshot: FlagSnapshot) throws -> (String, JSONValue) {
        switch kind.kind {
        case .segment:
            let segment = try SegmentDefinition(json: json)
            return (segment.name, segment.json)
        case .flag:
            let flag = try FlagDefinition(json: json)
            if let unknown = flag.segmentReferences.sorted().first(where: { snapshot.segmentDefinitions[$0] == nil }) {
                throw ProblemDetails.invalidField("rules", "segment \(unknown) does not exist")
            }
            if let unknown = flag.prerequisites.first(where: { snapshot.flagDefinitions[$0.flagName] == nil }) {
                throw ProblemDetails.invalidField("prerequisites", "flag \(unknown.flagName) does not exist")
            }
            if snapshot.closesPrerequisiteCycle(flag) {
                throw ProblemDetails.invalidField("prerequisites", "would make a cycle of prerequisites")
            }
            return (flag.name, flag.json)
        }
    }

    static func name(_ kind: Kind, _ context: ServiceRequestContext) throws -> String {
        try context.pathParameter(kind.parameter)
    }

    static func recordResponse(_ change: EntityChange, status: HTTPResponse.Status) throws -> Response {
        try Response.json(change.record, status: status, headers: [.eTag: change.etag])
    }
}
