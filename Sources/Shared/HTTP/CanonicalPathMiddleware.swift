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

    public static func isCanonical(_ path: String) -> Bool {
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        let bytes = Array(path.utf8)
        guard bytes.first == slash else { return false }
        let segments = bytes.dropFirst().split(separator: slash, omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            // Only the last segment may be empty: the root itself, or one trailing slash.
            if segment.isEmpty && index != segments.count - 1 { return false }
            if segment.elementsEqual([dot]) || segment.elementsEqual([dot, dot]) { return false }
        }
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "\\") { return false }
            guard bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            else { continue }
            switch (high, low) {
            case (0x2, 0xF), (0x5, 0xC), (0x2, 0xE), (0x0, 0x0): return false
            default: continue
            }
        }
        return true
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
