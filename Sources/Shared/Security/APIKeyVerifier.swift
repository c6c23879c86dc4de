import Foundation
import HTTPTypes

/// Checks the API key a request presents (`X-Api-Key`, `Authorization: Bearer …`, or the
/// password of `Authorization: Basic …`, which is what a browser can send for a page) and
/// names it by its fingerprint from then on; the raw key goes no further than this.
///
/// Where a key is required, a missing one is 401 and a wrong one 403, both counted by the
/// ``AuthFailureGuard`` per client address; a client over that limit gets 429 before its key
/// is even looked at. Where a key is optional, a good one still identifies the client (its
/// own rate-limit allowance) and a bad one counts for nothing.
public struct APIKeyVerifier: Sendable {
    public let fingerprinter: KeyFingerprinter
    public let failures: AuthFailureGuard

    public init(fingerprinter: KeyFingerprinter, failures: AuthFailureGuard) {
        self.fingerprinter = fingerprinter
        self.failures = failures
    }

    /// The fingerprint of the presented key if `accepted` holds it.
    /// - Parameters:
    ///   - client: the client's address bucket, for counting failures.
    ///   - required: whether a missing or refused key ends the request.
    ///   - known: keys that are valid elsewhere but not good enough here (403 `insufficient`).
    public func verify(
        _ headers: HTTPFields,
        client: String,
        required: Bool,
        accepted: APIKeySet,
        known: APIKeySet? = nil,
        insufficient: String = "the API key is not valid for this route"
    ) throws -> String? {
        let presented = Self.presentedKey(in: headers)
        guard required else {
            guard let presented, accepted.contains(presented) || known?.contains(presented) == true else { return nil }
            return fingerprinter.fingerprint(presented)
        }
        return try failures.check(client) {
            guard let presented else { throw ProblemDetails.unauthorized("an API key is required (X-Api-Key)") }
            guard accepted.contains(presented) else {
                throw ProblemDetails.forbidden(known?.contains(presented) == true ? insufficient : "the API key is not valid")
            }
            return fingerprinter.fingerprint(presented)
        }
    }

    /// The key in `X-Api-Key`, `Authorization: Bearer …` or as the password of
    /// `Authorization: Basic …` of `headers`, if any.
    public static func presentedKey(in headers: HTTPFields) -> String? {
        if let key = headers[.apiKey], !key.isEmpty { return key }
        guard let authorization = headers[.authorization] else { return nil }
        if authorization.hasPrefix("Bearer ") { return String(authorization.dropFirst(7)) }
        if authorization.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(authorization.dropFirst(6))),
            let credentials = String(data: decoded, encoding: .utf8), let colon = credentials.firstIndex(of: ":")
        {
            let password = credentials[credentials.index(after: colon)...]
            return password.isEmpty ? nil : String(password)
        }
        return nil
    }
}
