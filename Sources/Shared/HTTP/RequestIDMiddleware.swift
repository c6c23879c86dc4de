import Foundation
import HTTPTypes
import Hummingbird

/// Takes `X-Request-Id` from the client (when it is a sane token) or makes one, puts it in
/// every log line of the request as `request.id`, and echoes it on the response.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.id(for: request.headers)
        context.requestID = id
        context.logger[metadataKey: "request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    /// The client's request id when it is acceptable, else a new one.
    public static func id(for headers: HTTPFields) -> String {
        headers[.requestID].flatMap(acceptable) ?? UUID().uuidString.lowercased()
    }

    /// Up to 128 characters of `[A-Za-z0-9._:-]`: anything else could forge log lines.
    static func acceptable(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128,
              value.utf8.allSatisfy({ byte in
                  (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                      || byte == 45 || byte == 46 || byte == 95 || byte == 58
              })
        else { return nil }
        return value
    }
}

extension HTTPField.Name {
    public static let requestID = Self("X-Request-Id")!
    public static let forwardedFor = Self("X-Forwarded-For")!
    public static let forwardedProto = Self("X-Forwarded-Proto")!
    public static let fallback = Self("X-Fallback")!
    public static let apiKey = Self("X-Api-Key")!
    public static let rateLimit = Self("RateLimit")!
    public static let rateLimitPolicy = Self("RateLimit-Policy")!
    public static let xRateLimitLimit = Self("X-RateLimit-Limit")!
    public static let xRateLimitRemaining = Self("X-RateLimit-Remaining")!
    public static let xRateLimitReset = Self("X-RateLimit-Reset")!
    public static let lastEventID = Self("Last-Event-ID")!
}
