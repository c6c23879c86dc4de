import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// Evaluations, from the snapshot in memory only: the fixed `/users/{user_id}/flags…`
/// routes and the OpenFeature Remote Evaluation Protocol (`/ofrep/v1/…`).
struct EvaluationAPI: Sendable {
    let store: FlagStore
    let now: @Sendable () -> Date

    init(store: FlagStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    func evaluator() -> FlagEvaluator { FlagEvaluator(snapshot: store.snapshot, now: now) }

    /// - Parameters:
    ///   - router: the group behind the evaluation access check.
    ///   - ofrep: `/ofrep/v1` behind the same check (and OFREP's rate limit).
    func register(on router: some RouterMethods<ServiceRequestContext>, ofrep: some RouterMethods<ServiceRequestContext>) {
        router.get("/users/:user_id/flags/:flag_name") { request, context in
            let user = try context.pathParameter("user_id")
            let flag = try context.pathParameter("flag_name")
            let result: Evaluation
            do {
                result = try evaluator().evaluate(flag, context: Self.queryContext(user, request))
            } catch {
                throw ProblemDetails.notFound("no flag \(flag)")
            }
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("user_id")
            writer.string(user)
            Self.writeFields(result, to: &writer)
            writer.endObject()
            return Self.jsonResponse(writer.buffer)
        }

        router.get("/users/:user_id/flags") { request, context in
            let user = try context.pathParameter("user_id")
            let evaluator = evaluator()
            let attributes = Self.queryContext(user, request)
            var writer = JSONWriter(capacity: 1024)
            writer.beginObject()
            writer.key("user_id")
            writer.string(user)
            writer.key("flags")
            writer.beginArray()
            for name in evaluator.snapshot.flagDefinitions.keys.sorted() {
                guard let result = try? evaluator.evaluate(name, context: attributes) else { continue }
                writer.beginObject()
                Self.writeFields(result, to: &writer)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
            return Self.jsonResponse(writer.buffer)
        }

        ofrep.post("/evaluate/flags/:key") { request, context in
            let key = try context.pathParameter("key")
            let evaluationContext: EvaluationContext
            switch try await Self.ofrepContext(request, context) {
            case .success(let parsed): evaluationContext = parsed
            case .failure(let failure): return Self.ofrepError(.badRequest, key: key, failure.code, failure.details)
            }
            switch Result(catching: { () throws(EvaluationError) in try evaluator().evaluate(key, context: evaluationContext) }) {
            case .success(let result):
                var writer = JSONWriter()
                Self.writeOFREP(result, to: &writer)
                return Self.jsonResponse(writer.buffer)
            case .failure(.flagNotFound):
                return Self.ofrepError(.notFound, key: key, "FLAG_NOT_FOUND", "flag \(key) does not exist")
            case .failure(.targetingKeyMissing):
                return Self.ofrepError(.badRequest, key: key, "TARGETING_KEY_MISSING", "flag \(key) needs a targetingKey in the context")
            }
        }

        ofrep.post("/evaluate/flags") { request, context in
            let evaluationContext: EvaluationContext
            switch try await Self.ofrepContext(request, context) {
            case .success(let parsed): evaluationContext = parsed
            case .failure(let failure): return Self.ofrepError(.badRequest, key: nil, failure.code, failure.details)
            }
            let evaluator = evaluator()
            var writer = JSONWriter(capacity: 4096)
            writer.beginObject()
            writer.key("flags")
            writer.beginArray()
            for name in evaluator.snapshot.flagDefinitions.keys.sorted() {
                do {
                    Self.writeOFREP(try evaluator.evaluate(name, context: evaluationContext), to: &writer)
                } catch {
                    writer.beginObject()
                    writer.key("key")
                    writer.string(name)
                    writer.key("errorCode")
                    writer.string("TARGETING_KEY_MISSING")
                    writer.key("errorDetails")
                    writer.string("flag \(name) needs a targetingKey in the context")
                    writer.endObject()
                }
            }
            writer.endArray()
            writer.endObject()
            // The tag covers the answer itself, so it changes exactly when the answer does:
            // with any flag change that matters to this context, and with the context.
            let body = writer.buffer
            let digest = SHA256.hash(data: body.readableBytesView)
            let etag = "\"" + hex(digest.prefix(16)) + "\""
            if let condition = request.headers[.ifNoneMatch], ETag.matches(condition, etag) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            var response = Self.jsonResponse(body)
            response.headers[.eTag] = etag
            return response
        }

        ofrep.get("/configuration") { _, _ in
            try Response.json(
                [
                    "name": "suite FlagService",
                    "capabilities": [
                        "cacheInvalidation": ["polling": ["enabled": true, "minPollingIntervalMs": 1000]],
                        "flagEvaluation": ["supportedTypes": ["boolean", "string", "int", "float", "object"]],
                    ],
                ] as JSONValue
            )
        }
    }

    /// The fixed routes' context: the user id is the targeting key, query parameters are
    /// attributes (`?country=DE&plan=pro`), all strings.
    static func queryContext(_ user: String, _ request: Request) -> EvaluationContext {
        var attributes: [String: JSONValue] = [:]
        for (name, value) in request.uri.queryParameters {
            attributes[String(name)] = .string(String(value))
        }
        return EvaluationContext(targetingKey: user, attributes: attributes)
    }

    static func writeFields(_ result: Evaluation, to writer: inout JSONWriter) {
        writer.key("flag_name")
        writer.string(result.flag)
        writer.key("enabled")
        writer.bool(result.enabled)
        writer.key("variant")
        writer.string(result.variant)
        writer.key("value")
        writer.value(result.value ?? .null)
        writer.key("reason")
        writer.string(result.reason.rawValue)
    }

    static func writeOFREP(_ result: Evaluation, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("key")
        writer.string(result.flag)
        // No value: the provider uses the application's default (a multivariate flag
        // that is off without an off variant).
        if let value = result.value {
            writer.key("value")
            writer.value(value)
        }
        writer.key("reason")
        writer.string(result.reason.rawValue)
        writer.key("variant")
        writer.string(result.variant)
        writer.key("metadata")
        writer.beginObject()
        writer.key("version")
        writer.number(Double(result.version))
        if let cause = result.cause {
            writer.key("cause")
            writer.string(cause)
        }
        writer.endObject()
        writer.endObject()
    }

    struct ContextFailure: Error {
        let code: String
        let details: String
    }

    /// The request's evaluation context; failures are OFREP's `PARSE_ERROR` (not JSON) and
    /// `INVALID_CONTEXT` (not an object, or a targeting key that is not a string).
    static func ofrepContext(_ request: Request, _ context: ServiceRequestContext) async throws -> Result<EvaluationContext, ContextFailure> {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { return .success(EvaluationContext(targetingKey: nil)) }
        guard let body = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer)) else {
            return .failure(ContextFailure(code: "PARSE_ERROR", details: "the request body is not valid JSON"))
        }
        guard case .object(let members) = body else {
            return .failure(ContextFailure(code: "INVALID_CONTEXT", details: "the request body must be a JSON object"))
        }
        guard let contextValue = members["context"], contextValue != .null else {
            return .success(EvaluationContext(targetingKey: nil))
        }
        guard case .object(var attributes) = contextValue else {
            return .failure(ContextFailure(code: "INVALID_CONTEXT", details: "context must be an object"))
        }
        var targetingKey: String?
        switch attributes.removeValue(forKey: "targetingKey") {
        case .none, .null?: break
        case .string(let key)?: targetingKey = key
        default: return .failure(ContextFailure(code: "INVALID_CONTEXT", details: "context.targetingKey must be a string"))
        }
        return .success(EvaluationContext(targetingKey: targetingKey, attributes: attributes))
    }

    static func ofrepError(_ status: HTTPResponse.Status, key: String?, _ code: String, _ details: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        if let key {
            writer.key("key")
            writer.string(key)
        }
        writer.key("errorCode")
        writer.string(code)
        writer.key("errorDetails")
        writer.string(details)
        writer.endObject()
        var response = jsonResponse(writer.buffer)
        response.status = status
        return response
    }

    static func jsonResponse(_ buffer: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
