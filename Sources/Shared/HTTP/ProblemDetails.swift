import Foundation
import HTTPTypes
import Hummingbird

/// An error answered as `application/problem+json` (RFC 9457).
///
/// Handlers throw these for everything a client did wrong or cannot have right now; the
/// problem middleware renders them and turns every other error into one too, so no response
/// carries a stack trace, SQL or a secret.
public struct ProblemDetails: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A URI reference naming the problem kind, relative to the service (`/problems/…`).
    public var type: String
    public var title: String
    public var detail: String
    /// Members beyond the standard ones, e.g. `field` for validation errors.
    public var extensions: [String: JSONValue]
    public var headers: HTTPFields

    public init(
        status: HTTPResponse.Status,
        type: String,
        title: String? = nil,
        detail: String,
        extensions: [String: JSONValue] = [:],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    /// 400: the body is not JSON, or a query parameter cannot be read.
    public static func malformed(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .badRequest, type: "/problems/malformed-request", detail: detail)
    }

    /// 422: `field` is missing, of the wrong type or out of range.
    public static func invalidField(_ field: String, _ detail: String) -> ProblemDetails {
        ProblemDetails(
            status: .unprocessableContent,
            type: "/problems/invalid-field",
            title: "Invalid field",
            detail: "\(field): \(detail)",
            extensions: ["field": .string(field)]
        )
    }

    public static func notFound(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .notFound, type: "/problems/not-found", detail: detail)
    }

    public static func conflict(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .conflict, type: "/problems/conflict", detail: detail)
    }

    public static func unauthorized(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .unauthorized, type: "/problems/unauthorized", detail: detail, headers: [.wwwAuthenticate: "ApiKey"])
    }

    public static func forbidden(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .forbidden, type: "/problems/forbidden", detail: detail)
    }

    /// 412: an `If-Match` precondition failed (someone else changed the resource).
    public static func preconditionFailed(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .preconditionFailed, type: "/problems/precondition-failed", detail: detail)
    }

    public static func tooLarge(limit: Int) -> ProblemDetails {
        ProblemDetails(status: .contentTooLarge, type: "/problems/payload-too-large", detail: "request body exceeds \(limit) bytes")
    }

    public static func rateLimited(retryAfter: Duration, headers: HTTPFields = [:], detail: String = "rate limit exceeded") -> ProblemDetails {
        var headers = headers
        headers[.retryAfter] = String(retryAfter.wholeSecondsRoundedUp)
        return ProblemDetails(
            status: .tooManyRequests,
            type: "/problems/rate-limited",
            detail: "\(detail); retry in \(retryAfter.wholeSecondsRoundedUp) s",
            headers: headers
        )
    }

    public static func unavailable(_ dependency: String, retryAfter: Duration) -> ProblemDetails {
        ProblemDetails(
            status: .serviceUnavailable,
            type: "/problems/dependency-unavailable",
            detail: "\(dependency) is unavailable; retry later",
            extensions: ["dependency": .string(dependency)],
            headers: [.retryAfter: String(retryAfter.wholeSecondsRoundedUp)]
        )
    }

    public static func internalError(requestID: String?) -> ProblemDetails {
        ProblemDetails(
            status: .internalServerError,
            type: "/problems/internal",
            detail: "an unexpected error occurred" + (requestID.map { " (request \($0))" } ?? "")
        )
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The problem+json document, for an answer written without a router.
    public var body: ByteBuffer {
        var object: [String: JSONValue] = extensions
        object["type"] = .string(type)
        object["title"] = .string(title)
        object["status"] = .number(Double(status.code))
        object["detail"] = .string(detail)
        // A JSON value of strings and numbers always encodes.
        let bytes = (try? ServiceRequestContext.encoder.encode(JSONValue.object(object))) ?? Data()
        return ByteBuffer(bytes: bytes)
    }
}
