import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The routes: `POST /event`, `GET /canmessage`, `GET /canpurchase` (the fixed API), and
/// `GET /users/{user_id}/restrictions`, `GET /rules`, `POST /rules/{name}/reset`,
/// `GET /stream`.
struct RestrictionAPI: Sendable {
    let rules: RuleSet
    let log: EventLog
    let reader: RestrictionReader
    let applier: EventApplier
    let time: WallTime
    /// Names producers (``EventLog/producer(of:fingerprinter:)``).
    let fingerprinter: KeyFingerprinter

    func registerIngest(on router: some RouterMethods<ServiceRequestContext>) {
        router.post("/event") { request, context in
            let body = try await request.decodeJSONValue(context: context)
            let event = try IncomingEvent(json: body, headerKey: request.headers.first(.idempotencyKey), rules: rules)
            let appended: EventLog.Appended
            do {
                // Only an event with an id needs its producer (an HMAC per request otherwise).
                let producer =
                    event.idempotencyKey == nil
                    ? EventLog.anonymousProducer : EventLog.producer(of: request.headers, fingerprinter: fingerprinter)
                appended = try await log.append(event, producer: producer, receivedAt: time.milliseconds)
            } catch is IdempotencyConflict {
                throw ProblemDetails.invalidField("event_id", "already used for a different event")
            }
            // Members in sorted order, as the other answers' encoder writes them.
            var writer = JSONWriter(capacity: 128)
            writer.beginObject()
            if let key = event.idempotencyKey {
                writer.key("event_id")
                writer.string(key)
            }
            writer.key("status")
            writer.string("Event '\(event.name)' added to the stream.")
            writer.key("stream_id")
            writer.string(appended.id)
            writer.endObject()
            var headers: HTTPFields = [.contentType: "application/json"]
            if appended.replayed { headers[.idempotentReplayed] = "true" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: writer.buffer))
        }
    }

    func registerQueries(on router: some RouterMethods<ServiceRequestContext>) {
        for (path, access) in [("/canmessage", "can_message"), ("/canpurchase", "can_purchase")] {
            router.get(RouterPath(path)) { request, _ in
                let user = try Self.userID(request)
                let allowed = try await reader.has(access, user: user)
                var writer = JSONWriter(capacity: 32)
                writer.beginObject()
                writer.key(access)
                writer.bool(allowed)
                writer.endObject()
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: writer.buffer))
            }
        }

    }

    /// `GET /users/{user_id}/restrictions`, `GET /rules` and `GET /stream`: a user's fraud
    /// metrics, the thresholds and which tripwires hold. Registered behind the admin keys
    /// unless `RESTRICTIONS_READ_ACCESS=open`.
    func registerInsights(on router: some RouterMethods<ServiceRequestContext>) {
        router.get("/users/:user_id/restrictions") { _, context in
            let user = try context.pathParameter("user_id")
            let state = try await reader.user(user)
            let accesses = Set(rules.rules.map(\.clears)).sorted()
            let restricted = Set(state.restrictions.map(\.access))
            var answer: [String: JSONValue] = [
                "user_id": .string(user),
                "restrictions": .array(state.restrictions.map(Self.json)),
                "held": .array(state.held.map(Self.json)),
                "metrics": .object(state.metrics.mapValues(JSONValue.number)),
                "events_received": .number(Double(state.received)),
                "events_applied": .number(Double(state.applied)),
            ]
            for access in accesses { answer[access] = .bool(!restricted.contains(access)) }
            return try Response.json(JSONValue.object(answer))
        }

        router.get("/rules") { _, _ in
            let states = try await reader.rules(now: time.milliseconds)
            let tripwire = applier.tripwire
            return try Response.json(
                [
                    "tripwire": [
                        "window_seconds": .number(tripwire.window.seconds), "ratio": .number(tripwire.ratio),
                        "minimum_users": .number(Double(tripwire.minimumUsers)),
                    ],
                    "rules": .array(states.map(Self.json)),
                ] as JSONValue
            )
        }

        router.get("/stream") { _, _ in
            let status = try await reader.stream()
            return try Response.json(
                [
                    "stream": .string(applier.keys.partitions[0].stream), "group": .string(applier.group),
                    "partitions": .array(applier.keys.partitions.map { .string($0.stream) }),
                    "length": .number(Double(status.length)), "lag": .number(Double(status.lag)),
                    "pending": .number(Double(status.pending)), "dead_letters": .number(Double(status.deadLetters)),
                    "applied": .number(Double(status.applied)), "duplicates": .number(Double(status.duplicates)),
                ] as JSONValue
            )
        }
    }

    /// `POST /rules/{name}/reset`, behind the admin keys.
    func registerAdmin(on router: some RouterMethods<ServiceRequestContext>) {
        router.post("/rules/:name/reset") { _, context in
            let name = try context.pathParameter("name")
            guard rules.rules.contains(where: { $0.name == name }) else { throw ProblemDetails.notFound("no rule '\(name.prefix(64))'") }
            let wasTripped = try await applier.reset(rule: name, now: time.milliseconds)
            context.logger.notice("tripwire reset", metadata: ["restrictions.rule": "\(name)", "restrictions.was_tripped": "\(wasTripped)"])
            let state = try await reader.rules(now: time.milliseconds).first { $0.rule.name == name }!
            var answer = Self.json(state)
            if case .object(var object) = answer {
                object["was_tripped"] = .bool(wasTripped)
                answer = .object(object)
            }
            return try Response.json(answer)
        }
    }

    static func userID(_ request: Request) throws -> String {
        guard let user = request.uri.queryParameters["user_id"].map(String.init), !user.isEmpty else {
            throw ProblemDetails.invalidField("user_id", "the user_id query parameter is required")
        }
        return user
    }

    static func json(_ restriction: RestrictionReader.Restriction) -> JSONValue {
        [
            "access": .string(restriction.access), "rule": .string(restriction.rule),
            "at": .string(Timestamp.iso8601(Date(timeIntervalSince1970: Double(restriction.at) / 1000))), "event": .string(restriction.event),
        ]
    }

    static func json(_ state: RestrictionReader.RuleState) -> JSONValue {
        guard case .object(var object) = state.rule.json else { return state.rule.json }
        object["state"] = .string(state.tripped ? "tripped" : "armed")
        object["tripped_at"] = state.trippedAt.map { .string(Timestamp.iso8601(Date(timeIntervalSince1970: Double($0) / 1000))) } ?? .null
        object["window_users"] = .number(Double(state.windowUsers))
        object["known_users"] = .number(Double(state.knownUsers))
        object["restricted"] = .number(Double(state.restricted))
        object["held"] = .number(Double(state.held))
        object["trips"] = .number(Double(state.trips))
        return .object(object)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
