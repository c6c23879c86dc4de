import Hummingbird

/// Refuses request paths that are not in canonical form, with 400, before any route sees
/// them: an empty segment (`//`), a dot segment (`/./`, `/../`), a percent-encoded slash,
/// backslash, dot or NUL, or a raw backslash.
///
/// The router ignores empty segments and the gateway forwards paths on, so such a path can
/// reach a route under another spelling than the one a check or a log expects. Access is
/// decided from the matched route anyway; this keeps every other reader of the path honest
/// too. A single trailing slash is allowed: the router matches `/flags/` as `/flags`.
public struct CanonicalPathMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isCanonical(request.uri.path) else {
            throw ProblemDetails(status: .badRequest, type: "/problems/non-canonical-path", detail: "the request path is not in canonical form")
        }
        return try await next(request, context)
    }

    public static func isCanonical(_ path: some StringProtocol) -> Bool {
        // One pass over the bytes, without copying them: this runs on every proxied request.
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        let percent = UInt8(ascii: "%")
        var bytes = path.utf8.makeIterator()
        guard bytes.next() == slash else { return false }
        var segmentLength = 0
        var segmentIsDots = true
        // An escape being read: after `%`, nil; after `%` and a hex digit, that digit.
        var escape: UInt8?? = .none
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "\\") { return false }
            if case .some(let high) = escape {
                if let value = hexValue(byte) {
                    if let high {
                        switch (high, value) {
                        case (0x2, 0xF), (0x5, 0xC), (0x2, 0xE), (0x0, 0x0): return false
                        default: escape = .none
                        }
                    } else {
                        escape = .some(value)
                    }
                } else {
                    escape = .none
                }
            }
            if byte == percent, escape == .none { escape = .some(nil) }
            if byte == slash {
                // Only the last segment may be empty: the root itself, or one trailing slash.
                if segmentLength == 0 || (segmentIsDots && segmentLength <= 2) { return false }
                segmentLength = 0
                segmentIsDots = true
            } else {
                segmentLength += 1
                segmentIsDots = segmentIsDots && byte == dot
            }
        }
        return !(segmentIsDots && (1...2).contains(segmentLength))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
