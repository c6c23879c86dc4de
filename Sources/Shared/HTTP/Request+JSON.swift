import Foundation
import Hummingbird

extension Request {
    /// Decodes the JSON body as `T`, mapping failures to the suite's problems: 413 over the
    /// body limit, 400 when it is not JSON, 422 naming the field that is missing, null or of
    /// the wrong type.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: ServiceRequestContext) async throws -> T {
        let buffer = try await nonEmptyBody(context: context)
        do {
            return try context.requestDecoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw ProblemDetails(decoding: error)
        }
    }

    /// The body as any JSON value (400 when empty or not JSON). Non-finite numbers
    /// (`NaN`, `Infinity`, which some JSON writers emit) are read as such, so validation can
    /// answer 422 naming their field instead of a bare 400.
    public func decodeJSONValue(context: ServiceRequestContext) async throws -> JSONValue {
        let buffer = try await nonEmptyBody(context: context)
        do {
            return try JSONValue.parse(buffer)
        } catch {
            throw ProblemDetails(error)
        }
    }

    /// The body up to the limit (413 above it); 400 when empty.
    private func nonEmptyBody(context: ServiceRequestContext) async throws -> ByteBuffer {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { throw ProblemDetails.malformed("request body is empty; a JSON object is expected") }
        return buffer
    }
}

extension ProblemDetails {
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty,
            .valueNotFound(_, let context) where context.codingPath.isEmpty:
            self = .malformed("request body must be a JSON object")
        case .keyNotFound(let key, let context):
            self = .invalidField(path(context.codingPath, key), "is required")
        case .valueNotFound(_, let context):
            self = .invalidField(path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            self = .invalidField(path(context.codingPath), "must be \(Self.describe(type))")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            self = .invalidField(path(context.codingPath), context.debugDescription)
        default:
            self = .malformed("request body is not valid JSON")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default: type == [String: Any].self ? "an object" : "of another type"
        }
    }
}
