import HTTPTypes
import Hummingbird

/// Takes `X-Request-Id` from the client (when it is a sane token) or makes one, puts it in
/// every log line of the request, and echoes it on the response.
///
/// The id replaces the one Hummingbird gave the request under its own key,
/// ``metadataKey``, so a log line holds one request id (the one the client and the response
/// see), and `context.id` is that id too.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    /// Hummingbird's metadata key for the request id.
    public static let metadataKey = "hb.request.id"

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.id(for: request.headers)
        context.logger[metadataKey: Self.metadataKey] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    /// The client's request id when it is acceptable, else a new one.
    public static func id(for headers: HTTPFields) -> String {
        id(presented: headers[.requestID])
    }

    /// `presented` when it is an acceptable id, else a new one.
    public static func id(presented: String?) -> String {
        presented.flatMap(acceptable) ?? newID()
    }

    /// A random (version 4) UUID in lower case. Foundation's `UUID()` on Linux opens and reads
    /// `/dev/urandom` on every call, ~7 % of a small route's CPU; `SystemRandomNumberGenerator`
    /// is one `getrandom` per 64 bits.
    static func newID() -> String {
        var random = SystemRandomNumberGenerator()
        let high = random.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000  // version 4
        let low = random.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000  // RFC 4122 variant
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { text in
            var index = 0
            func put(_ word: UInt64, nibbles: ClosedRange<Int>) {
                for nibble in nibbles.reversed() {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        text[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    text[index] = digits.utf8Start[Int(word >> UInt64(nibble * 4) & 0xF)]
                    index += 1
                }
            }
            put(high, nibbles: 0...15)
            put(low, nibbles: 0...15)
            return index
        }
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
